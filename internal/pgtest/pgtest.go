// Package pgtest gives tests a real PostgreSQL: a throwaway cluster started
// from the installed binaries (or the server named by TEST_DATABASE_URL) and a
// fresh, empty database per caller.
//
// Use it from TestMain so the cluster is stopped when the package's tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq" // the driver the project uses
)

var (
	once      sync.Once
	shared    *Cluster
	sharedErr error
)

// Run runs the tests and stops the cluster that any of them started.
func Run(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// NewDatabase creates an empty database for the calling test and returns its
// lib/pq URL. The database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	c := cluster(t)
	name := "t_" + randomHex(8)
	if err := c.exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		_ = c.exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return c.URL(name)
}

// SharedCluster returns the cluster NewDatabase uses, starting it if needed.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	return cluster(t)
}

func cluster(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() {
		if raw := os.Getenv("TEST_DATABASE_URL"); raw != "" {
			shared, sharedErr = FromURL(raw)
			return
		}
		shared, sharedErr = Start()
	})
	if sharedErr != nil {
		t.Fatalf("pgtest: no PostgreSQL for tests: %v (set TEST_DATABASE_URL, or install PostgreSQL: make test does both)", sharedErr)
	}
	return shared
}

// Cluster is a PostgreSQL server the tests may create databases on.
type Cluster struct {
	base    url.URL // points at the maintenance database
	dataDir string  // empty when the cluster is not ours to stop
	binDir  string
	owned   string // temp directory to remove on Stop
	opts    string // server options, reused by StartServer
}

// FromURL uses an existing server; Stop leaves it running.
func FromURL(raw string) (*Cluster, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("TEST_DATABASE_URL must be a postgres:// URL")
	}
	c := &Cluster{base: *u}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.exec(ctx, "SELECT 1"); err != nil {
		return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	return c, nil
}

// Start initialises and starts a throwaway cluster on a free loopback port.
// As root it runs PostgreSQL's binaries as the postgres user.
func Start() (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	reapOrphans(bin, os.TempDir())
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	// Who owns the cluster, so a later run can stop it if this process is
	// killed before Stop (a test binary hitting its timeout, say).
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	c := &Cluster{binDir: bin, owned: dir, dataDir: filepath.Join(dir, "data")}
	if err := c.start(dir); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(dir string) error {
	asRoot := os.Geteuid() == 0
	if asRoot {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
		// the temp root may not be traversable by postgres
		_ = os.Chmod(dir, 0o700)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	if out, err := c.run(asRoot, "initdb", "-D", c.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	c.opts = fmt.Sprintf("-F -k %s -p %d -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", dir, port)
	if out, err := c.run(asRoot, "pg_ctl", "-D", c.dataDir, "-o", c.opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
	}
	c.base = url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
	return nil
}

func (c *Cluster) run(asRoot bool, name string, args ...string) ([]byte, error) {
	bin := filepath.Join(c.binDir, name)
	var cmd *exec.Cmd
	if asRoot {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Dir = "/"
	return cmd.CombinedOutput()
}

// URL returns the lib/pq URL of database name on this cluster.
func (c *Cluster) URL(name string) string {
	u := c.base
	u.Path = "/" + name
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Stop stops a cluster Start created and removes its files.
func (c *Cluster) Stop() error {
	var err error
	if c.dataDir != "" && c.binDir != "" {
		if _, statErr := os.Stat(filepath.Join(c.dataDir, "postmaster.pid")); statErr == nil {
			if out, stopErr := c.run(os.Geteuid() == 0, "pg_ctl", "-D", c.dataDir, "-m", "immediate", "-w", "stop"); stopErr != nil {
				err = fmt.Errorf("pg_ctl stop: %v: %s", stopErr, out)
			}
		}
	}
	if c.owned != "" {
		_ = os.RemoveAll(c.owned)
	}
	return err
}

// StopServer stops the server but keeps its data, for fault tests (see StartServer).
// It is an error on a cluster that Start did not create.
func (c *Cluster) StopServer() error {
	if c.dataDir == "" {
		return errors.New("pgtest: cannot stop a server named by TEST_DATABASE_URL")
	}
	out, err := c.run(os.Geteuid() == 0, "pg_ctl", "-D", c.dataDir, "-m", "fast", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Outage stops the server for a fault test and returns the function that
// starts it again. Should the test end without calling it, a cleanup starts
// the server, so that the tests after it find it running.
func (c *Cluster) Outage(t testing.TB) (restart func()) {
	t.Helper()
	if err := c.StopServer(); err != nil {
		t.Fatal(err)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			if err := c.StartServer(); err != nil {
				t.Errorf("restart PostgreSQL: %v", err)
			}
		}
	})
	return func() {
		t.Helper()
		if err := c.StartServer(); err != nil {
			t.Fatal(err)
		}
		stopped = false
	}
}

// StartServer starts a server stopped by StopServer, on the same port.
func (c *Cluster) StartServer() error {
	if c.dataDir == "" {
		return errors.New("pgtest: cannot start a server named by TEST_DATABASE_URL")
	}
	out, err := c.run(os.Geteuid() == 0, "pg_ctl", "-D", c.dataDir, "-o", c.opts, "-l", filepath.Join(c.owned, "log"), "-w", "-t", "60", "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	return nil
}

func (c *Cluster) exec(ctx context.Context, stmt string) error {
	db, err := sql.Open("postgres", c.URL(strings.TrimPrefix(c.base.Path, "/")))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// BinDir finds PostgreSQL's server binaries: $PG_BIN, the newest
// /usr/lib/postgresql/*/bin, or initdb on PATH.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries not found (looked in $PG_BIN, /usr/lib/postgresql/*/bin and PATH)")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("unexpected listener address %v", l.Addr())
	}
	return addr.Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ownerFile holds the pid of the process that started a cluster.
const ownerFile = "owner.pid"

// reapOrphans stops and removes the clusters under root left behind by test
// processes that died without stopping them, so killed runs do not pile up
// servers.
func reapOrphans(bin, root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, "pgtest-*"))
	for _, dir := range dirs {
		raw, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		c := &Cluster{binDir: bin, owned: dir, dataDir: filepath.Join(dir, "data")}
		_ = c.Stop()
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
