package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pgBinDir holds initdb, pg_ctl and postgres (Debian's layout for PostgreSQL 15);
// BENCH_PG_BIN overrides it.
const pgBinDir = "/usr/lib/postgresql/15/bin"

// benchObserver is the role the benchmark itself connects as, so that
// pg_stat_statements' counts for the service's role are the service's alone.
const benchObserver = "bench_observer"

// pgCluster is a PostgreSQL cluster of the benchmark's own, in a temporary
// directory, with pg_stat_statements loaded: nobody else's statements, CPU or
// statistics mix with the run's.
type pgCluster struct {
	dir, port, bin string
	cred           *syscall.Credential // initdb and postgres refuse to run as root
}

// startPGCluster runs initdb and pg_ctl start, and stops the cluster when b ends.
func startPGCluster(b *testing.B) *pgCluster {
	b.Helper()
	bin := os.Getenv("BENCH_PG_BIN")
	if bin == "" {
		bin = pgBinDir
	}
	if _, err := os.Stat(filepath.Join(bin, "pg_ctl")); err != nil {
		b.Fatalf("PostgreSQL's pg_ctl is needed in %s (set BENCH_PG_BIN; MULTILINE_SKIP_POSTGRES=1 to skip): %v", bin, err)
	}
	dir, err := os.MkdirTemp("", "bench-pg-")
	if err != nil {
		b.Fatal(err)
	}
	c := &pgCluster{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			b.Fatalf("running as root, a postgres user is needed to run the cluster: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	c.run(b, "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	c.port = strings.TrimPrefix(burstFreeAddr(b), "127.0.0.1:")
	opts := fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=10000 -c pg_stat_statements.track_utility=on", c.port, dir)
	c.run(b, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start")
	b.Cleanup(func() {
		cmd := c.cmd("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		cmd.Run()
	})
	db, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE EXTENSION pg_stat_statements",
		"CREATE ROLE " + benchObserver + " LOGIN SUPERUSER",
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	return c
}

func (c *pgCluster) cmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

func (c *pgCluster) run(b *testing.B, name string, args ...string) {
	b.Helper()
	if out, err := c.cmd(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		b.Fatalf("%s: %v\n%s\n%s", name, err, out, burstTail(string(log), 2000))
	}
}

// url is the URL of database db for the service's role (postgres).
func (c *pgCluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/%s?sslmode=disable", c.port, db)
}

// observerURL is the URL of database db for the benchmark's own role.
func (c *pgCluster) observerURL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%s/%s?sslmode=disable", benchObserver, c.port, db)
}

// createDB makes a fresh database and drops it when b ends.
func (c *pgCluster) createDB(b *testing.B, name string) {
	b.Helper()
	db, err := sql.Open("pgx", c.observerURL("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		b.Fatalf("create database %s: %v", name, err)
	}
	b.Cleanup(func() {
		defer db.Close()
		db.Exec("DROP DATABASE " + name + " WITH (FORCE)")
	})
	// pg_stat_statements' view lives in a database; its counts cover them all.
	in, err := sql.Open("pgx", c.observerURL(name))
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	if _, err := in.Exec("CREATE EXTENSION pg_stat_statements"); err != nil {
		b.Fatalf("create extension pg_stat_statements in %s: %v", name, err)
	}
}

// stmtStat is one normalized statement's calls and the time PostgreSQL spent
// executing them.
type stmtStat struct {
	calls int64
	ms    float64
	query string
}

// stmtSnapshot reads pg_stat_statements for the service's role in database
// name: calls by queryid.
func stmtSnapshot(ctx context.Context, db *sql.DB, name string) (map[int64]stmtStat, error) {
	rows, err := db.QueryContext(ctx, `SELECT s.queryid, s.calls, s.total_exec_time, s.query FROM pg_stat_statements s
		JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
		WHERE d.datname = $1 AND r.rolname = 'postgres'`, name)
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_statements: %w", err)
	}
	defer rows.Close()
	out := map[int64]stmtStat{}
	for rows.Next() {
		var id, calls int64
		var ms float64
		var q string
		if err := rows.Scan(&id, &calls, &ms, &q); err != nil {
			return nil, fmt.Errorf("read pg_stat_statements: %w", err)
		}
		s := out[id]
		out[id] = stmtStat{calls: s.calls + calls, ms: s.ms + ms, query: q}
	}
	return out, rows.Err()
}

// stmtDelta is what ran between two snapshots: the total calls and the
// statements by calls, most first.
func stmtDelta(before, after map[int64]stmtStat) (int64, []stmtStat) {
	var total int64
	var list []stmtStat
	for id, a := range after {
		d := a.calls - before[id].calls
		if d <= 0 {
			continue
		}
		total += d
		list = append(list, stmtStat{calls: d, ms: a.ms - before[id].ms, query: a.query})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].calls > list[j].calls })
	return total, list
}

// oneLine shortens a statement's text for a report line.
func oneLine(q string, n int) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > n {
		q = q[:n] + "…"
	}
	return q
}

// ---- the floors: the bare writes a message costs, on the same database ----

// floorRate is messages per second of "insert the message, update its thread",
// perTx messages per transaction, n messages, against tables shaped like
// messages and threads (created and dropped here) in the database db opens.
// dialect is "sqlite" or "postgres".
func floorRate(ctx context.Context, db *sql.DB, dialect string, perTx, n int) (float64, error) {
	ph := func(i int) string {
		if dialect == "postgres" {
			return "$" + strconv.Itoa(i)
		}
		return "?" + strconv.Itoa(i) // SQLite's numbered parameter
	}
	ddl := []string{
		"DROP TABLE IF EXISTS floor_messages",
		"DROP TABLE IF EXISTS floor_threads",
		`CREATE TABLE floor_threads (id TEXT PRIMARY KEY, company TEXT NOT NULL, consumer TEXT NOT NULL DEFAULT '',
			state TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
		`CREATE TABLE floor_messages (id TEXT PRIMARY KEY, thread TEXT NOT NULL REFERENCES floor_threads (id) ON DELETE CASCADE,
			seq BIGINT NOT NULL, from_party TEXT NOT NULL, body TEXT NOT NULL DEFAULT '{}', text TEXT NOT NULL DEFAULT '',
			status TEXT NOT NULL, wechat_msgid TEXT NOT NULL DEFAULT '', at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
			UNIQUE (thread, seq))`,
	}
	for _, q := range ddl {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("floor: %s: %w", oneLine(q, 40), err)
		}
	}
	defer db.ExecContext(ctx, "DROP TABLE IF EXISTS floor_messages")
	defer db.ExecContext(ctx, "DROP TABLE IF EXISTS floor_threads")
	const threads = 1000
	now := time.Now().UnixMilli()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}
	for t := range threads {
		if _, err := tx.ExecContext(ctx, "INSERT INTO floor_threads (id, company, consumer, state, created_at, updated_at) VALUES ("+
			ph(1)+", 'c', "+ph(2)+", 'open', "+ph(3)+", "+ph(3)+")", fmt.Sprintf("t%04d", t), fmt.Sprintf("wm%04d", t), now); err != nil {
			tx.Rollback()
			return 0, fmt.Errorf("floor: seed threads: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("floor: seed threads: %w", err)
	}
	insMsg := "INSERT INTO floor_messages (id, thread, seq, from_party, body, text, status, wechat_msgid, at, updated_at) VALUES (" +
		ph(1) + ", " + ph(2) + ", " + ph(3) + ", 'consumer', " + ph(4) + ", " + ph(5) + ", 'received', " + ph(6) + ", " + ph(7) + ", " + ph(7) + ")"
	updThread := "UPDATE floor_threads SET updated_at = " + ph(1) + " WHERE id = " + ph(2)
	start := time.Now()
	for i := 0; i < n; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, fmt.Errorf("floor: %w", err)
		}
		for j := 0; j < perTx && i < n; j, i = j+1, i+1 {
			th := fmt.Sprintf("t%04d", i%threads)
			text := fmt.Sprintf("floor-%06d: hello, is my order shipped yet?", i)
			body := `{"type":"text","text":"` + text + `"}`
			if _, err := tx.ExecContext(ctx, insMsg, fmt.Sprintf("m%06d", i), th, i/threads, body, text, fmt.Sprintf("CMSG%06d", i), now+int64(i)); err != nil {
				tx.Rollback()
				return 0, fmt.Errorf("floor: insert message: %w", err)
			}
			if _, err := tx.ExecContext(ctx, updThread, now+int64(i), th); err != nil {
				tx.Rollback()
				return 0, fmt.Errorf("floor: update thread: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, fmt.Errorf("floor: commit: %w", err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// vmHWM is a process's peak resident set (VmHWM in /proc/PID/status), in bytes.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
