package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	maxOpenConns = 32
	// As many idle connections as open ones: with fewer, a burst of
	// concurrent requests closes connections only to open new ones a moment
	// later, and a PostgreSQL connection costs a process fork (under a
	// 32-client load, a pool of 8 idle opened ~50 connections a second).
	maxIdleConns = maxOpenConns
	// Idle connections are closed after a while so a replica that was busy
	// once does not hold server slots forever, and so connections broken by
	// a failover or a NAT timeout are replaced before they are used.
	connMaxIdleTime = 5 * time.Minute
	connMaxLifetime = 30 * time.Minute
	// defaultConnectTimeout applies when the URL sets no connect_timeout.
	defaultConnectTimeout = 10 * time.Second

	// migrationLockID is the advisory lock replicas take around migrations.
	// It differs from goose's default so another goose-managed schema in the
	// same database does not wait on ours.
	migrationLockID int64 = 0x6d63_7061_7069 // "mcpapi"
)

// Open prepares a connection pool for databaseURL, a lib/pq URL
// (postgres://...) or key=value DSN. It does not connect: a database that is
// down now makes calls fail with ErrUnavailable until it is back, so a server
// can start and report its state. A malformed databaseURL is an error.
func Open(databaseURL string) (*Store, error) {
	if strings.TrimSpace(databaseURL) == "" {
		return nil, errors.New("database URL is empty; set DATABASE_URL to a lib/pq URL such as postgres://user:password@host:5432/dbname?sslmode=disable")
	}
	cfg, err := parseDatabaseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(databaseURL, "binary_parameters") {
		// A query with parameters then takes one round trip instead of two
		// (lib/pq otherwise parses it first and binds it after). []byte
		// values go as binary, which is right for the bytea columns they
		// fill; everything else is still sent as text.
		cfg.BinaryParameters = true
	}
	if cfg.ConnectTimeout == 0 {
		// lib/pq bounds the startup handshake only by connect_timeout, not
		// by the context: without one, a server that accepts TCP but never
		// answers would hang every caller waiting for a connection.
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	db.SetConnMaxLifetime(connMaxLifetime)
	return &Store{db: db}, nil
}

// parseDatabaseURL validates a lib/pq URL or DSN. Its errors never contain
// the password: url.Parse and lib/pq quote the input they choke on, so their
// messages are reduced to the reason and any password is masked.
func parseDatabaseURL(raw string) (pq.Config, error) {
	const want = "a lib/pq URL (postgres://user:password@host:port/dbname?sslmode=disable) or key=value DSN (host=... dbname=...)"
	var password string
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err
			}
			return pq.Config{}, fmt.Errorf("database URL must be %s: %v", want, err)
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return pq.Config{}, fmt.Errorf("database URL must be %s; its scheme is %q", want, u.Scheme)
		}
		password, _ = u.User.Password()
	} else if m := dsnPassword.FindStringSubmatch(raw); m != nil {
		password = strings.Trim(m[1], "'")
	}
	cfg, err := pq.NewConfig(raw)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "pq: ")
		if password != "" {
			msg = strings.ReplaceAll(msg, password, "xxxxx")
		}
		if strings.Contains(msg, `missing "=" after`) {
			msg = "expected key=value pairs separated by spaces (single-quote values that contain spaces)"
		}
		return pq.Config{}, fmt.Errorf("database URL must be %s: %s", want, msg)
	}
	return cfg, nil
}

var dsnPassword = regexp.MustCompile(`(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// Close closes the prepared statements and the pool.
func (s *Store) Close() error {
	s.stmtsMu.Lock()
	for query, st := range s.stmts {
		_ = st.Close()
		delete(s.stmts, query)
	}
	s.stmtsMu.Unlock()
	return s.db.Close()
}

// prepared returns the pool's prepared statement for query, preparing it on
// first use. PostgreSQL's parse and plan of an unnamed statement are most of
// what a primary-key read costs it (pgbench -M prepared runs the API's
// SELECT about twice as fast), so the queries every request runs are
// prepared. database/sql prepares it again on each pooled connection when
// that connection first runs it, including connections opened after a
// database restart, so the statement outlives the connections it started
// on. It is prepared lazily rather than in Open so that Open needs no
// database and the tables exist by then. Errors come back as the driver
// returned them.
func (s *Store) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	s.stmtsMu.RLock()
	st := s.stmts[query]
	s.stmtsMu.RUnlock()
	if st != nil {
		return st, nil
	}
	// Prepared without the lock, so callers do not queue behind a slow
	// database; when two race, the first one stored is kept.
	st, err := s.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.stmtsMu.Lock()
	defer s.stmtsMu.Unlock()
	if prev := s.stmts[query]; prev != nil {
		_ = st.Close()
		return prev, nil
	}
	if s.stmts == nil {
		s.stmts = map[string]*sqlx.Stmt{}
	}
	s.stmts[query] = st
	return st, nil
}

// forget closes st and drops it if it is still query's statement.
func (s *Store) forget(query string, st *sqlx.Stmt) {
	s.stmtsMu.Lock()
	defer s.stmtsMu.Unlock()
	if s.stmts[query] == st {
		delete(s.stmts, query)
		_ = st.Close()
	}
}

// preparedGet is sqlx.GetContext with query as a prepared statement. When
// PostgreSQL reports the statement stale (a migration changed the type of a
// column it returns) or gone (a pooler or DISCARD ALL dropped it), the
// statement is prepared afresh and the query run once more.
func (s *Store) preparedGet(ctx context.Context, dest any, query string, args ...any) error {
	return s.withPrepared(ctx, query, func(st *sqlx.Stmt) error { return st.GetContext(ctx, dest, args...) })
}

// preparedExec is ExecContext with query as a prepared statement, prepared
// afresh as preparedGet's is.
func (s *Store) preparedExec(ctx context.Context, query string, args ...any) error {
	return s.withPrepared(ctx, query, func(st *sqlx.Stmt) error {
		_, err := st.ExecContext(ctx, args...)
		return err
	})
}

// withPrepared runs fn on query's prepared statement, once more on a fresh
// one when PostgreSQL reports it stale or gone.
func (s *Store) withPrepared(ctx context.Context, query string, fn func(*sqlx.Stmt) error) error {
	for retried := false; ; retried = true {
		st, err := s.prepared(ctx, query)
		if err != nil {
			return err
		}
		err = fn(st)
		if retried || pq.As(err, pqerror.FeatureNotSupported, pqerror.InvalidSQLStatementName) == nil {
			return err
		}
		s.forget(query, st)
	}
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Migrate applies the embedded migrations that are not applied yet. Replicas
// starting together are safe: they serialise on a PostgreSQL advisory lock
// and the later ones find nothing left to do.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Retry every second rather than goose's default five, so a replica
	// waiting behind another's (fast) migration is not held up for nothing.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, s.db.DB, fsys,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// provider.Close would close our pool, so it is deliberately not called.
	if _, err := provider.Up(ctx); err != nil {
		return s.fail("migrate", err)
	}
	return nil
}

// fail adds the operation to a database error and marks it ErrUnavailable
// when it means the server could not be reached. Pooled connections that
// died with the server need no flushing here: lib/pq reports them as
// driver.ErrBadConn and database/sql then retries on a fresh connection.
func (s *Store) fail(op string, err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	if unreachable(err) {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unreachable reports whether err means the database server could not be
// reached or went away, as opposed to rejecting what we asked.
func unreachable(err error) bool {
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		// The pool could not hand out a working connection in time.
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	if pqErr := pq.As(err); pqErr != nil {
		if pqErr.Code.Class() == pqerror.ClassConnectionException {
			return true
		}
		switch pqErr.Code {
		case pqerror.AdminShutdown, pqerror.CrashShutdown, pqerror.CannotConnectNow:
			return true
		}
	}
	return false
}

// constraint returns the name of the constraint err violated with the given
// SQLSTATE, or "" when err is something else.
func constraint(err error, code pqerror.Code) string {
	if pqErr := pq.As(err, code); pqErr != nil {
		return pqErr.Constraint
	}
	return ""
}

// inTx runs fn in a transaction and commits when it returns nil. fn's own
// errors come back unchanged.
func (s *Store) inTx(ctx context.Context, op string, fn func(*sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return s.fail(op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// namedGet and namedSelect run a query with :named parameters.
func namedGet(ctx context.Context, q sqlx.ExtContext, dest any, query string, arg any) error {
	query, args, err := q.BindNamed(query, arg)
	if err != nil {
		return err
	}
	return sqlx.GetContext(ctx, q, dest, query, args...)
}

func namedSelect(ctx context.Context, q sqlx.ExtContext, dest any, query string, arg any) error {
	query, args, err := q.BindNamed(query, arg)
	if err != nil {
		return err
	}
	return sqlx.SelectContext(ctx, q, dest, query, args...)
}

func namedExec(ctx context.Context, q sqlx.ExtContext, query string, arg any) (sql.Result, error) {
	query, args, err := q.BindNamed(query, arg)
	if err != nil {
		return nil, err
	}
	return q.ExecContext(ctx, query, args...)
}
