package main

// BenchmarkScale is issue 13's item 5, "a million idle threads": the real binary,
// started as an operator starts it (`multiline serve`, production mode, no --dev)
// against the production fakes (prodRun: Entra, Graph, the Bot Framework issuer;
// fake WeCom and Bot Connector with Teams' limits), on a PostgreSQL database of
// its own, with 10k, 100k and 1M idle threads, each waiting on its 24 h and 48 h
// timers. For each size it prints the time to start (process start to /readyz
// answering 200), the resident memory at idle (VmRSS, and the peak VmHWM), and
// one timer sweep: 100 of the 24 h timers made due at once, timed until each of
// the 100 threads has its "no response for 24 h" note in the database and until
// the 100 notices reached the fake Bot Connector, with the CPU the service and
// PostgreSQL used for it and what PostgreSQL counted meanwhile (transactions,
// rows read by scans). Each figure is also a ratio to the smallest size; the
// target is flat (memory and sweep cost do not grow with the idle threads).
//
// The threads are not made one by one through WeCom (a million would take
// hours): one thread is made by the product (20 employees install the app, one
// consumer writes, a thread is routed, welcomed and left idle), and its rows
// (threads, consumers, participants, messages and its two timer jobs) are copied
// in bulk with INSERT … SELECT … generate_series, column for column as the
// product wrote them, with the thread, consumer and participant replaced (the
// participants spread over the 20 employees). Sizes grow in the same database:
// each one adds the threads the previous one lacks. The audit and archive chains
// are not copied (their hashes chain per company; idle threads add nothing there).
//
//	make bench-scale                # or:
//	go test -run '^$' -bench Scale -benchtime 1x -timeout 60m ./cmd/multiline/
//
// Knobs (environment): SCALE_SIZES (default 10000,100000,1000000),
// SCALE_IDLE (how long the service idles before its memory is read; default 10s).
// It never fails on a figure: only when it cannot be run at all.

import (
	"context"
	"database/sql"
	"fmt"
	neturl "net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/bridge"
)

const (
	scaleEmployees = 20
	scaleDue       = 100
	// scaleTemplateConsumer writes the one message the product turns into the
	// template thread.
	scaleTemplateConsumer = "wmScaleTemplate"
	scaleTemplateText     = "hello, this thread will idle"
)

// scaleRow is one size's figures.
type scaleRow struct {
	threads       int
	seed          time.Duration // adding the threads this size lacks
	start         time.Duration // process start to /readyz 200
	rss, hwm      int64         // kB, at idle
	notes, teams  time.Duration // due to the 100 notes in the database / the 100 notices at Teams
	svcCPU, pgCPU time.Duration // during the sweep
	xacts         int64         // PostgreSQL transactions committed during the sweep
	scanned       int64         // rows PostgreSQL's sequential scans read during the sweep
	fetched       int64         // rows index scans fetched during the sweep
	seqScans      string        // the tables that were scanned sequentially, with counts
	teamsLog      string        // what the Bot Connector saw during the sweep
	ok            bool
	why           string
}

func scaleSizes(b *testing.B) []int {
	v := os.Getenv("SCALE_SIZES")
	if v == "" {
		v = "10000,100000,1000000"
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < scaleDue || (len(out) > 0 && n <= out[len(out)-1]) {
			b.Fatalf("SCALE_SIZES=%q: want increasing sizes of at least %d threads", v, scaleDue)
		}
		out = append(out, n)
	}
	return out
}

func scaleIdle(b *testing.B) time.Duration {
	if v := os.Getenv("SCALE_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			b.Fatalf("SCALE_IDLE=%q: want a duration such as 10s", v)
		}
		return d
	}
	return 10 * time.Second
}

func BenchmarkScale(b *testing.B) {
	sizes, idle := scaleSizes(b), scaleIdle(b)
	run := newProdRun(b)
	dbURL := burstDatabase(b)
	u, err := neturl.Parse(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	w := run.world(b, prodOptions{name: "scale", dbURL: dbURL, noStart: true, env: map[string]string{"MULTILINE_METRICS_ADDR": "off"}})
	w.mustCLI("migrate")
	w.start()
	var staff []*prodEmployee
	for i := range scaleEmployees {
		staff = append(staff, w.install(fmt.Sprintf("e%02d", i), fmt.Sprintf("Employee %02d", i), true))
	}
	w.consumerSends(scaleTemplateConsumer, scaleTemplateText)
	w.whoSees(scaleTemplateText)
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tpl := scaleTemplate(b, db)
	w.proc.kill()

	var rows []scaleRow
	have := 0
	for _, n := range sizes {
		r := scaleRow{threads: n}
		t0 := time.Now()
		if err := scaleSeed(db, tpl, have+1, n); err != nil {
			b.Fatalf("seed %d threads: %v", n, err)
		}
		r.seed = time.Since(t0)
		have = n
		b.Logf("%d threads seeded in %s", n, r.seed.Round(time.Second))
		scaleMeasure(b, w, db, dbName, staff, &r, idle, len(rows))
		rows = append(rows, r)
	}
	scalePrint(rows)
}

// scaleTmpl is the thread the product made, which the seed copies.
type scaleTmpl struct {
	thread, consumer, employee string
	employees                  []string
}

func scaleTemplate(b *testing.B, db *sql.DB) scaleTmpl {
	b.Helper()
	var t scaleTmpl
	deadline := time.Now().Add(prodSoon)
	for {
		// Idle: the thread is routed and active, and only its two timers wait.
		var jobs int
		err := db.QueryRow(`SELECT t.id, t.consumer, p.employee,
  (SELECT count(*) FROM jobs j WHERE j.lane NOT LIKE 'timer:%' AND j.lane NOT LIKE 'archive:%' AND j.dead_at = 0)
FROM threads t JOIN participants p ON p.thread = t.id WHERE t.consumer = $1 AND t.status = 'active'`, scaleTemplateConsumer).
			Scan(&t.thread, &t.consumer, &t.employee, &jobs)
		var timers int
		if err == nil {
			err = db.QueryRow(`SELECT count(*) FROM jobs WHERE lane = $1`, "timer:"+t.thread+":").Scan(&timers)
		}
		if err == nil && jobs == 0 && timers == 2 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the template thread did not settle (err %v, %d other jobs, %d timers)", err, jobs, timers)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rs, err := db.Query(`SELECT id FROM employees WHERE enabled ORDER BY id`)
	if err != nil {
		b.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			b.Fatal(err)
		}
		t.employees = append(t.employees, id)
	}
	if len(t.employees) != scaleEmployees {
		b.Fatalf("%d enabled employees, want %d", len(t.employees), scaleEmployees)
	}
	return t
}

// scaleThreadID is the id of seeded thread g: 12 characters, like the product's.
func scaleThreadID(g int) string { return fmt.Sprintf("sc%010d", g) }

// The SQL expressions of seeded thread g's ids ($3 is the employees array).
const (
	scaleSQLThread   = `('sc' || lpad(g::text, 10, '0'))`
	scaleSQLConsumer = `('wmScale' || lpad(g::text, 8, '0'))`
	scaleSQLEmployee = `(($3::text[])[1 + g % cardinality($3::text[])])`
)

// scaleSeed copies the template into threads from..to (1-based, inclusive).
func scaleSeed(db *sql.DB, t scaleTmpl, from, to int) error {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := func(s string) string { return strings.ReplaceAll(s, "$T", "'"+t.thread+"'") }
	stmts := []struct{ table, where, order string }{
		{"threads", "t.id = $T", ""},
		{"consumers", "t.id = '" + t.consumer + "'", ""},
		{"participants", "t.thread = $T", ""},
		{"messages", "t.thread = $T", ""},
		// One lane per thread, ids in the lane's order: each 24 h timer before its 48 h one.
		{"jobs", "t.lane = 'timer:' || $T || ':'", "ORDER BY t.id, g"},
	}
	over := map[string]map[string]string{
		"threads": {
			"id":       scaleSQLThread,
			"consumer": scaleSQLConsumer,
			"state": `replace(replace(replace(t.state, '"' || t.id || '"', '"' || ` + scaleSQLThread + ` || '"'),
  '"' || t.consumer || '"', '"' || ` + scaleSQLConsumer + ` || '"'), '"' || $4 || '"', '"' || ` + scaleSQLEmployee + ` || '"')`,
		},
		"consumers":    {"id": scaleSQLConsumer},
		"participants": {"thread": scaleSQLThread, "employee": scaleSQLEmployee},
		"messages": {"id": `replace(t.id, t.thread, ` + scaleSQLThread + `)`, "thread": scaleSQLThread,
			"author": `CASE WHEN t.author = $4 THEN ` + scaleSQLEmployee + ` ELSE t.author END`,
			// A WeChat msgid is unique per message; the copies get their own.
			"wechat_msgid": `CASE WHEN t.wechat_msgid = '' THEN '' ELSE t.wechat_msgid || '-' || g END`},
		"jobs": {"lane": `'timer:' || ` + scaleSQLThread + ` || ':'`, "payload": `replace(t.payload, t.lane, 'timer:' || ` + scaleSQLThread + ` || ':')`},
	}
	// The job payload names the thread, not the lane: replace the thread id.
	over["jobs"]["payload"] = `replace(t.payload, '"' || $T || '"', '"' || ` + scaleSQLThread + ` || '"')`
	for _, s := range stmts {
		cols, err := scaleColumns(ctx, tx, s.table)
		if err != nil {
			return err
		}
		sel := make([]string, len(cols))
		for i, c := range cols {
			if e, ok := over[s.table][c]; ok {
				sel[i] = e
			} else {
				sel[i] = "t." + c
			}
		}
		stmt := q(fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM %s t, generate_series($1::bigint, $2::bigint) g WHERE %s AND $4::text <> '' AND cardinality($3::text[]) > 0 %s`,
			s.table, strings.Join(cols, ", "), strings.Join(sel, ", "), s.table, s.where, s.order))
		if _, err := tx.ExecContext(ctx, stmt, from, to, t.employees, t.employee); err != nil {
			return fmt.Errorf("copy %s: %w", s.table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Vacuumed and analyzed as autovacuum would leave them, so that it does not
	// run during the measurement (it did, after 900k rows, and took a second
	// from a sweep).
	_, err = db.ExecContext(ctx, `VACUUM ANALYZE`)
	return err
}

// scaleColumns are a table's columns the product writes (identities excluded).
func scaleColumns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rs, err := tx.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'NO' ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var c string
		if err := rs.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rs.Err()
}

// procStatus reads a kB field (VmRSS, VmHWM) of /proc/PID/status.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// pgCounters are what PostgreSQL counted in the database so far.
type pgCounters struct {
	xacts, seqRead, idxFetch int64
	seqScans                 map[string]int64
}

func scalePG(db *sql.DB, name string) pgCounters {
	// Backends report at most once a second, when idle: wait for the flush.
	time.Sleep(1500 * time.Millisecond)
	db.Exec(`SELECT pg_stat_clear_snapshot()`)
	var c pgCounters
	db.QueryRow(`SELECT xact_commit FROM pg_stat_database WHERE datname = $1`, name).Scan(&c.xacts)
	c.seqScans = map[string]int64{}
	rs, err := db.Query(`SELECT relname, seq_scan, seq_tup_read, coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables`)
	if err != nil {
		return c
	}
	defer rs.Close()
	for rs.Next() {
		var rel string
		var scans, read, fetch int64
		if rs.Scan(&rel, &scans, &read, &fetch) == nil {
			c.seqScans[rel], c.seqRead, c.idxFetch = scans, c.seqRead+read, c.idxFetch+fetch
		}
	}
	return c
}

func scaleMeasure(b *testing.B, w *prodWorld, db *sql.DB, dbName string, staff []*prodEmployee, r *scaleRow, idle time.Duration, k int) {
	b.Helper()
	t0 := time.Now()
	w.start()
	r.start = time.Since(t0)
	defer w.proc.kill()
	pid := w.proc.cmd.Process.Pid
	time.Sleep(idle)
	r.rss, r.hwm = procStatus(pid, "VmRSS"), procStatus(pid, "VmHWM")

	// 100 threads spread over the seeded ones, whose 24 h timers come due now
	// (the kth size's offset k keeps them apart from earlier sizes' sweeps).
	var ids, lanes []string
	for i := range scaleDue {
		id := scaleThreadID(1 + k + i*(r.threads/scaleDue))
		ids, lanes = append(ids, id), append(lanes, "timer:"+id+":")
	}
	teamsBefore := 0
	for _, e := range staff {
		teamsBefore += len(w.conn.Activities(e.conv))
	}
	before, cpu0 := scalePG(db, dbName), sampleCPU(&burstProc{cmd: w.proc.cmd}, dbName)
	due := time.Now()
	// As the clock would: the timers' run_at passes, and (instead of the runners'
	// 5 s fallback poll finding them) one wake-up on the product's channel.
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	res, err := tx.Exec(`UPDATE jobs SET run_at = $1 WHERE lane = ANY($2) AND dead_at = 0 AND payload LIKE '%"timer":"24h"%'`, due.UnixMicro(), lanes)
	if err != nil {
		b.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != scaleDue {
		b.Fatalf("%d timers made due, want %d", n, scaleDue)
	}
	if _, err := tx.Exec(`SELECT pg_notify('multiline', '{"j":true}')`); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	deadline := due.Add(2 * time.Minute)
	for r.notes == 0 || r.teams == 0 {
		if r.notes == 0 {
			var n int
			if err := db.QueryRow(`SELECT count(DISTINCT thread) FROM messages WHERE thread = ANY($1) AND notice = $2`,
				ids, string(bridge.NoticeNoResponse24h)).Scan(&n); err == nil && n == scaleDue {
				r.notes = time.Since(due)
			}
		}
		if r.teams == 0 {
			n := -teamsBefore
			for _, e := range staff {
				n += len(w.conn.Activities(e.conv))
			}
			if n >= scaleDue {
				r.teams = time.Since(due)
			}
		}
		if time.Now().After(deadline) {
			r.why = fmt.Sprintf("the sweep did not finish in %s", deadline.Sub(due))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.teamsLog = scaleTeamsLog(w.conn.Requests(), due)
	graph := 0
	for _, q := range w.run.graph.Requests() {
		if !q.At.Before(due) {
			graph++
		}
	}
	r.teamsLog += fmt.Sprintf("; Graph (activity feed, refused 403 by the fake tenant without consent): %d requests", graph)
	cpu1 := sampleCPU(&burstProc{cmd: w.proc.cmd}, dbName)
	after := scalePG(db, dbName)
	r.svcCPU, r.pgCPU = cpu1.svc-cpu0.svc, max(0, cpu1.pg-cpu0.pg)
	r.xacts, r.scanned, r.fetched = after.xacts-before.xacts, after.seqRead-before.seqRead, after.idxFetch-before.idxFetch
	var scans []string
	for rel, n := range after.seqScans {
		if d := n - before.seqScans[rel]; d > 0 {
			scans = append(scans, fmt.Sprintf("%s %d", rel, d))
		}
	}
	r.seqScans = strings.Join(scans, ", ")
	r.ok = r.why == ""
}

// scaleRatio is v as a ratio to the first row's, marked against the flat target
// (within 1.5×: these machines are shared and noisy).
func scaleRatio(v, base float64) string {
	if base <= 0 {
		return "n/a"
	}
	x := v / base
	mark := "met"
	if x > 1.5 {
		mark = fmt.Sprintf("gap %.1f×", x)
	}
	return fmt.Sprintf("%.2f× %s", x, mark)
}

func scalePrint(rows []scaleRow) {
	if len(rows) == 0 {
		return
	}
	base := rows[0]
	fmt.Printf("\nA million idle threads (PostgreSQL, production mode, %d employees, each thread with its 24 h and 48 h timers pending)\n", scaleEmployees)
	fmt.Printf("target: flat, each figure within 1.5× of the %d-thread row (start time is reported, not targeted)\n\n", base.threads)
	fmt.Printf("%-9s %-8s | %-8s %-7s | %-9s %-14s %-9s | %-8s %-14s %-8s | %-9s %-14s %-7s %-6s %-9s %-9s\n",
		"threads", "seed", "start", "×", "idle RSS", "×", "peak", "sweep", "×", "→Teams", "svc CPU", "×", "PG CPU", "xacts", "seq rows", "idx rows")
	for _, r := range rows {
		if !r.ok {
			fmt.Printf("%-9d %s\n", r.threads, r.why)
			continue
		}
		fmt.Printf("%-9d %-8s | %-8s %-7s | %-9s %-14s %-9s | %-8s %-14s %-8s | %-9s %-14s %-7s %-6d %-9d %-9d\n",
			r.threads, r.seed.Round(time.Second), r.start.Round(time.Millisecond), fmt.Sprintf("%.2f×", r.start.Seconds()/base.start.Seconds()),
			fmt.Sprintf("%.1f MB", float64(r.rss)/1024), scaleRatio(float64(r.rss), float64(base.rss)), fmt.Sprintf("%.1f MB", float64(r.hwm)/1024),
			r.notes.Round(time.Millisecond), scaleRatio(r.notes.Seconds(), base.notes.Seconds()), r.teams.Round(time.Millisecond),
			r.svcCPU, scaleRatio(r.svcCPU.Seconds(), base.svcCPU.Seconds()), r.pgCPU, r.xacts, r.scanned, r.fetched)
	}
	fmt.Println("\nsweep: from 100 24 h timers due (and one wake-up) until all 100 threads hold their \"no response for 24 h\" note;")
	fmt.Println("→Teams: until the 100 notices reached the fake Bot Connector (Teams' limits allow 50/s per tenant, so ≥ 2 s);")
	fmt.Println("CPU, transactions and rows read (PostgreSQL's counters of the database) over the sweep, including the service's idle polling meanwhile.")
	for _, r := range rows {
		if r.ok {
			fmt.Printf("  %d threads: sequential scans during the sweep: %s; Bot Connector: %s\n", r.threads, orNone(r.seqScans), r.teamsLog)
		}
	}
}

// scaleTeamsLog summarizes the Bot Connector's requests since t: how many, how
// many Teams throttled, and when the first, the median and the last arrived.
func scaleTeamsLog(reqs []fakeconnector.Request, t time.Time) string {
	var at []time.Duration
	throttled := 0
	for _, q := range reqs {
		if q.At.Before(t) {
			continue
		}
		at = append(at, q.At.Sub(t))
		if q.Status == 429 {
			throttled++
		}
	}
	if len(at) == 0 {
		return "no requests"
	}
	slices.Sort(at)
	return fmt.Sprintf("%d requests (%d × 429), first %s, median %s, last %s after due", len(at), throttled,
		at[0].Round(time.Millisecond), at[len(at)/2].Round(time.Millisecond), at[len(at)-1].Round(time.Millisecond))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
