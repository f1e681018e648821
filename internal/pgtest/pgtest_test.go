package pgtest

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

func TestNewDatabaseIsUsableAndIsolated(t *testing.T) {
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Fatal("two calls returned the same database")
	}
	dbA, err := sql.Open("postgres", a)
	if err != nil {
		t.Fatal(err)
	}
	defer dbA.Close()
	if _, err := dbA.Exec("CREATE TABLE x (id int)"); err != nil {
		t.Fatal(err)
	}
	dbB, err := sql.Open("postgres", b)
	if err != nil {
		t.Fatal(err)
	}
	defer dbB.Close()
	var n int
	if err := dbB.QueryRow("SELECT count(*) FROM pg_tables WHERE tablename = 'x'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("a table created in one database is visible in another")
	}
}

func TestStopAndStartServer(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skip("TEST_DATABASE_URL names a server this test must not stop")
	}
	url := NewDatabase(t)
	c := SharedCluster(t)
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := c.StopServer(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err == nil {
		t.Fatal("ping succeeded while the server was stopped")
	}
	if err := c.StartServer(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
}

func TestReapOrphansRemovesClustersOfDeadOwners(t *testing.T) {
	bin, err := BinDir()
	if err != nil {
		t.Fatal(err)
	}
	// a process that has exited: its pid names no live owner
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	orphan, alive := filepath.Join(root, "pgtest-orphan"), filepath.Join(root, "pgtest-alive")
	for _, dir := range []string{orphan, alive} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(orphan, ownerFile), []byte(strconv.Itoa(dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(alive, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}

	reapOrphans(bin, root)

	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("the cluster of a dead owner is still there (stat: %v)", err)
	}
	if _, err := os.Stat(alive); err != nil {
		t.Fatalf("the cluster of a live owner was removed: %v", err)
	}
}
