package main

// BenchmarkTable is issue 13's item 4: the burst of BenchmarkBurst and a steady
// load, black box (the real binary, `multiline serve --dev`, against the fake
// WeCom and the fake Bot Connector with Teams' limits on), for SQLite, and for
// PostgreSQL with 1 and 2 replicas (two processes on one database, each with its
// own listener; WeChat's callbacks and Teams' activities reach them in turn
// through a round-robin proxy, as behind a load balancer; the fakes are shared).
// PostgreSQL is a cluster of the benchmark's own (initdb and pg_ctl in a temp
// dir, pg_stat_statements loaded), so that its statements and CPU are the run's.
//
// Per configuration, in this order:
//   - the floors, on the same database: "insert the message, update the thread",
//     one per transaction and 100 per transaction, from a small Go loop against
//     tables shaped like messages and threads;
//   - 20 employees install the app; tableSteadyConsumers consumers write once
//     and are welcomed (their threads exist and are assigned, round robin);
//   - steady: tableSteadyRate consumer messages per second for tableSteadyFor,
//     each with its callback, round robin over those consumers, so each of the
//     20 Teams conversations gets 1 message/s, under every Teams limit (7/s, 8/2 s,
//     60/30 s per conversation, 50/s per tenant): Teams' limits queue nothing and
//     the latency is the bridge's own, from the callback to the card at the fake;
//   - the burst: 1,000 new consumers with 3,000 messages waiting, one callback;
//     ingestion is the messages stored (counted in the database) per second from
//     the callback until all 3,000 are, welcomes are BenchmarkBurst's.
//
// It prints the table and each target as met or the exact gap. Knobs:
// BENCH_TABLE_CONFIGS (sqlite,pg1,pg2), BENCH_TABLE_CAP (how long the burst may
// take; 120s), BENCH_PG_BIN, MULTILINE_SKIP_POSTGRES=1 (SQLite only).
//
//	go test -run '^$' -bench Table -benchtime 1x -timeout 30m ./cmd/multiline/

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/wechat/fakewechat"
)

const (
	tableSteadyConsumers = 2 * burstEmployees // two threads per employee
	tableSteadyRate      = 20                 // consumer messages per second
	tableSteadyFor       = 15 * time.Second
	// The targets of issue 13.
	tableIngestTarget  = 0.25 // of the 100-per-transaction floor
	tableStmtTarget    = 15.0 // statements per message in steady state
	tableP99Target     = 20 * time.Millisecond
	tableReplicaTarget = 1.5 // 2 replicas' ingestion over 1 replica's
	tableFloorOne      = 500
	tableFloorHundred  = 5000
)

type tableConfig struct {
	name     string
	backend  string // sqlite, postgres
	replicas int
}

// tableRow is one configuration's figures.
type tableRow struct {
	cfg                       tableConfig
	floorOne, floorHundred    float64 // messages per second
	ingest, welcome           float64 // per second
	stored, welcomed          int
	ingestSpan, welcomeSpan   time.Duration
	p50, p99, pmax            time.Duration
	steadySent, steadyArrived int
	steadyTeamsReqs, convs    int
	cpuSteady, cpuBurst       time.Duration // service + PostgreSQL backends
	pgSteady, pgBurst         time.Duration // of which PostgreSQL
	others                    string        // how busy the machine was
	split                     string        // where the steady latency went
	hwm                       int64         // the largest replica's VmHWM
	stmtSteady, stmtBurst     float64       // per message; <0: not measured
	topSteady, topBurst       []stmtStat
	throttled                 int // 429s in the whole run
	throttledSteady           int // of which in the steady phase
	lost                      int
}

func BenchmarkTable(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc for the service's CPU time")
	}
	bin := burstBuild(b)
	list := os.Getenv("BENCH_TABLE_CONFIGS")
	if list == "" {
		list = "sqlite,pg1,pg2"
		if os.Getenv("MULTILINE_SKIP_POSTGRES") == "1" {
			list = "sqlite"
		}
	}
	var cluster *pgCluster
	var rows []tableRow
	for _, name := range strings.Split(list, ",") {
		cfg := tableConfig{name: strings.TrimSpace(name), backend: "postgres"}
		switch cfg.name {
		case "sqlite":
			cfg.backend, cfg.replicas = "sqlite", 1
		case "pg1":
			cfg.replicas = 1
		case "pg2":
			cfg.replicas = 2
		default:
			b.Fatalf("BENCH_TABLE_CONFIGS: unknown configuration %q (sqlite, pg1, pg2)", cfg.name)
		}
		if cfg.backend == "postgres" && cluster == nil {
			cluster = startPGCluster(b)
		}
		b.Run(cfg.name, func(b *testing.B) { rows = append(rows, runTable(b, bin, cfg, cluster)) })
	}
	printTable(rows)
}

// roundRobin forwards each request to the next of its targets.
type roundRobin struct {
	next    atomic.Uint64
	proxies []*httputil.ReverseProxy
}

func newRoundRobin(b *testing.B, addrs []string) *roundRobin {
	rr := &roundRobin{}
	for _, a := range addrs {
		u, err := url.Parse("http://" + a)
		if err != nil {
			b.Fatal(err)
		}
		rr.proxies = append(rr.proxies, httputil.NewSingleHostReverseProxy(u))
	}
	return rr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr.proxies[(rr.next.Add(1)-1)%uint64(len(rr.proxies))].ServeHTTP(w, r)
}

// tableCPU is the CPU time so far of the replicas and of the service's
// PostgreSQL backends on the run's database (not the benchmark's own, which
// counts the stored messages).
func tableCPU(procs []*burstProc, pgName string) (total, pg time.Duration) {
	for _, p := range procs {
		total += p.cpu()
	}
	if pgName != "" {
		pg = postgresCPUOf(func(cmdline string) bool { return strings.HasPrefix(cmdline, "postgres: postgres "+pgName+" ") })
	}
	return total + pg, pg
}

func runTable(b *testing.B, bin string, cfg tableConfig, cluster *pgCluster) tableRow {
	row := tableRow{cfg: cfg, stmtSteady: -1, stmtBurst: -1}
	ctx := context.Background()
	capD := envDuration(b, "BENCH_TABLE_CAP", 120*time.Second)

	// The database, the benchmark's view of it, and the floors on it.
	var dbURL, pgName string
	var observer *sql.DB
	var err error
	dialect := cfg.backend
	if cfg.backend == "sqlite" {
		path := filepath.Join(b.TempDir(), "table.db")
		dbURL = "sqlite:" + path
		// The service's settings (storage/open.go), for the floor's writes.
		observer, err = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate")
		if err == nil {
			observer.SetMaxOpenConns(1)
		}
	} else {
		pgName = fmt.Sprintf("table_%s_%d", cfg.name, time.Now().UnixNano())
		cluster.createDB(b, pgName)
		dbURL = cluster.url(pgName)
		observer, err = sql.Open("pgx", cluster.observerURL(pgName))
	}
	if err != nil {
		b.Fatal(err)
	}
	defer observer.Close()
	if row.floorOne, err = floorRate(ctx, observer, dialect, 1, tableFloorOne); err != nil {
		b.Fatal(err)
	}
	if row.floorHundred, err = floorRate(ctx, observer, dialect, 100, tableFloorHundred); err != nil {
		b.Fatal(err)
	}

	// The outside world, shared by the replicas.
	lcfg, err := LoadConfig(func(string) string { return "" }, true)
	if err != nil {
		b.Fatal(err)
	}
	fcfg := fakewechat.Config{CorpID: lcfg.WeComCorpID, KfSecret: lcfg.WeComKFSecret,
		CallbackToken: lcfg.WeComCallbackToken, EncodingAESKey: lcfg.WeComAESKey, OpenKfID: fakewechat.DefaultOpenKfID}
	fake, err := fakewechat.New(fcfg)
	if err != nil {
		b.Fatal(err)
	}
	wxRec := newWxRecorder(fake)
	wx, _ := burstServer(wxRec)
	defer wx.Close()
	conn := fakeconnector.New(fakeconnector.Options{})
	teamsRec := &teamsRecorder{next: conn, seen: map[string]time.Time{}}
	bf, _ := burstServer(teamsRec)
	defer bf.Close()

	// The replicas, one after the other (the first one migrates).
	var procs []*burstProc
	var addrs []string
	logDir := b.TempDir()
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range cfg.replicas {
		addr := burstFreeAddr(b)
		p := startBurstProc(b, bin, filepath.Join(logDir, fmt.Sprintf("replica-%d.log", i)), []string{
			"MULTILINE_ADDR=" + addr, "MULTILINE_DATABASE_URL=" + dbURL, "WECOM_API_BASE=" + wx.URL,
			"MULTILINE_METRICS_ADDR=" + burstFreeAddr(b),
		})
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("replica %d did not become ready:\n%s", i, burstTail(p.log(), 4000))
			}
		}
		procs, addrs = append(procs, p), append(addrs, addr)
	}
	svc := "http://" + addrs[0]
	if cfg.replicas > 1 {
		lb, _ := burstServer(newRoundRobin(b, addrs))
		defer lb.Close()
		svc = lb.URL
	}
	fail := func(format string, a ...any) {
		for i, p := range procs {
			a = append(a, i, burstTail(p.log(), 3000))
			format += "\n--- replica %d:\n%s"
		}
		b.Fatalf(format, a...)
	}

	// 20 employees install the app.
	for i := range burstEmployees {
		conn.AddConversation(fmt.Sprintf("a:burst%02d", i), "tenant-1", fmt.Sprintf("29:burst%02d", i))
		body, _ := json.Marshal(burstActivity(bf.URL, "installationUpdate", i, map[string]any{"action": "add"}))
		resp, err := client.Post(svc+"/api/messages", "application/json", strings.NewReader(string(body)))
		if err != nil {
			fail("install %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			fail("install %d: %d", i, resp.StatusCode)
		}
	}
	waitFor := func(what string, d time.Duration, done func() bool) {
		for deadline := time.Now().Add(d); !done(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				fail("%s within %s", what, d)
			}
		}
	}
	waitFor("every employee's welcome card", 60*time.Second, func() bool {
		for i := range burstEmployees {
			if len(conn.Activities(fmt.Sprintf("a:burst%02d", i))) == 0 {
				return false
			}
		}
		return true
	})
	fake.SetCallbackURL(svc + "/wechat/callback")

	// The steady consumers write once: their threads exist, they are welcomed.
	steadyID := func(c int) string { return fmt.Sprintf("wmSteady%02d", c) }
	var wg sync.WaitGroup
	for c := range tableSteadyConsumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := fake.ConsumerSends(ctx, steadyID(c), fmt.Sprintf("steady-w%02d: hello", c)); err != nil {
				fmt.Printf("table/%s: warm-up message %d: %v\n", cfg.name, c, err)
			}
		}()
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	waitFor("the steady consumers' first messages in Teams and their welcomes", 60*time.Second, func() bool {
		return teamsRec.count() >= tableSteadyConsumers && wxRec.welcomeCount() >= tableSteadyConsumers
	})
	time.Sleep(2 * time.Second) // let the first messages' follow-up work (cards, timers) settle

	// stmtsSince is the service's statements per message since snapshot before,
	// and the statements by calls.
	stmtsSince := func(before map[int64]stmtStat, msgs int) (float64, []stmtStat) {
		after, err := stmtSnapshot(ctx, observer, pgName)
		if err != nil {
			b.Fatal(err)
		}
		total, top := stmtDelta(before, after)
		return float64(total) / float64(msgs), top
	}

	// Steady: tableSteadyRate messages per second, each with its callback.
	var stmt0 map[int64]stmtStat
	if pgName != "" {
		if stmt0, err = stmtSnapshot(ctx, observer, pgName); err != nil {
			b.Fatal(err)
		}
	}
	reqs0, throttled0 := len(conn.Requests()), conn.Throttled()
	cpu0, pg0 := tableCPU(procs, pgName)
	n := int(tableSteadyFor.Seconds()) * tableSteadyRate
	sentAt := make([]time.Time, n)
	msgIDs := make([]string, n)
	tick := time.NewTicker(time.Second / tableSteadyRate)
	for i := range n {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			sentAt[i] = time.Now()
			id, err := fake.ConsumerSends(ctx, steadyID(i%tableSteadyConsumers), fmt.Sprintf("steady-%05d: where is my parcel?", i))
			if err != nil {
				fmt.Printf("table/%s: steady message %d: %v\n", cfg.name, i, err)
			}
			msgIDs[i] = id
		}()
	}
	tick.Stop()
	wg.Wait()
	token := func(i int) string { return fmt.Sprintf("steady-%05d", i) }
	arrived := func() int {
		seen, k := teamsRec.snapshot(), 0
		for i := range n {
			if _, ok := seen[token(i)]; ok {
				k++
			}
		}
		return k
	}
	for deadline := time.Now().Add(30 * time.Second); arrived() < n && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // the messages' last statements (marks, timers) after the card
	cpu1, pg1 := tableCPU(procs, pgName)
	row.cpuSteady, row.pgSteady = cpu1-cpu0, pg1-pg0
	if pgName != "" {
		row.stmtSteady, row.topSteady = stmtsSince(stmt0, n)
	}
	seen := teamsRec.snapshot()
	var lat, toPull, pullToCard []time.Duration
	for i := range n {
		at, ok := seen[token(i)]
		if !ok {
			continue
		}
		lat = append(lat, at.Sub(sentAt[i]))
		if pulled, ok := wxRec.pulled(msgIDs[i]); ok {
			toPull, pullToCard = append(toPull, pulled.Sub(sentAt[i])), append(pullToCard, at.Sub(pulled))
		}
	}
	if len(toPull) > 0 {
		row.split = fmt.Sprintf("callback to sync_msg returning it p50 %s, p99 %s; from there to the card p50 %s, p99 %s",
			pct(toPull, 0.5).Round(100*time.Microsecond), pct(toPull, 0.99).Round(100*time.Microsecond),
			pct(pullToCard, 0.5).Round(100*time.Microsecond), pct(pullToCard, 0.99).Round(100*time.Microsecond))
	}
	row.steadySent, row.steadyArrived = n, len(lat)
	if len(lat) > 0 {
		row.p50, row.p99, row.pmax = pct(lat, 0.5), pct(lat, 0.99), pct(lat, 1)
	}
	convs := map[string]bool{}
	for _, r := range conn.Requests()[reqs0:] {
		if r.Status/100 == 2 && r.Op != "attachment" {
			row.steadyTeamsReqs++
			convs[r.Conversation] = true
		}
	}
	row.convs = len(convs)
	row.throttledSteady = conn.Throttled() - throttled0

	// The burst: 3,000 messages of 1,000 new consumers waiting, one callback.
	countStored := func() (int, error) {
		var k int
		err := observer.QueryRowContext(ctx, "SELECT count(*) FROM messages WHERE text LIKE 'burst-%'").Scan(&k)
		return k, err
	}
	fake.SetCallbackURL("")
	stmt0 = nil
	if pgName != "" {
		if stmt0, err = stmtSnapshot(ctx, observer, pgName); err != nil {
			b.Fatal(err)
		}
	}
	var t0 time.Time
	for m := range burstPerConsumer {
		for c := range burstConsumers {
			last := m == burstPerConsumer-1 && c == burstConsumers-1
			if last {
				fake.SetCallbackURL(svc + "/wechat/callback")
				cpu0, pg0 = tableCPU(procs, pgName)
				t0 = time.Now()
			}
			_, err := fake.ConsumerSends(ctx, burstConsumer(c), burstText(c, m))
			switch {
			case last && err != nil:
				fail("the burst's kf callback was not acknowledged: %v", err)
			case !last && !errors.Is(err, fakewechat.ErrNoCallback):
				fail("preload: %v", err)
			}
		}
	}
	want := burstConsumers * burstPerConsumer
	var storedAt time.Time
	for time.Since(t0) < capD {
		k, err := countStored()
		if err != nil {
			fail("count the stored messages: %v", err)
		}
		if k >= want && storedAt.IsZero() {
			storedAt = time.Now()
		}
		row.stored = k
		if !storedAt.IsZero() && wxRec.welcomeCount() >= burstConsumers+tableSteadyConsumers {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	end := time.Now()
	cpu1, pg1 = tableCPU(procs, pgName)
	row.cpuBurst, row.pgBurst = cpu1-cpu0, pg1-pg0
	row.ingestSpan = end.Sub(t0)
	if !storedAt.IsZero() {
		row.ingestSpan = storedAt.Sub(t0)
	}
	row.ingest = float64(row.stored) / row.ingestSpan.Seconds()
	var wel []time.Time
	for c, at := range wxRec.welcomes() {
		if strings.HasPrefix(c, "wmBurst") {
			wel = append(wel, at)
		}
	}
	slices.SortFunc(wel, func(a, b time.Time) int { return a.Compare(b) })
	row.welcomed = len(wel)
	row.welcomeSpan = end.Sub(t0)
	if len(wel) == burstConsumers {
		row.welcomeSpan = wel[len(wel)-1].Sub(t0)
	}
	row.welcome = float64(len(wel)) / row.welcomeSpan.Seconds()
	if pgName != "" {
		row.stmtBurst, row.topBurst = stmtsSince(stmt0, want)
	}
	for _, p := range procs {
		row.hwm = max(row.hwm, vmHWM(p.cmd.Process.Pid))
	}
	row.throttled = conn.Throttled()
	row.lost = (want - row.stored) + (n - row.steadyArrived)
	row.others = machineLoad(b, procs, pgName)

	b.ReportMetric(row.ingest, "stored/s")
	b.ReportMetric(row.welcome, "welcomes/s")
	b.ReportMetric(float64(row.p99.Microseconds())/1000, "p99-ms")
	return row
}

// machineLoad samples, for one second, how much CPU processes other than the
// service, its PostgreSQL backends and this benchmark use: the machine is shared.
func machineLoad(b *testing.B, procs []*burstProc, pgName string) string {
	a := sampleCPU(procs[0], pgName)
	aCPU, _ := tableCPU(procs, pgName)
	time.Sleep(time.Second)
	z := sampleCPU(procs[0], pgName)
	zCPU, _ := tableCPU(procs, pgName)
	capacity := (z.capacity - a.capacity).Seconds()
	if capacity <= 0 {
		return "n/a"
	}
	busy := (z.busy - a.busy).Seconds()
	ours := (zCPU - aCPU + z.self - a.self).Seconds()
	return fmt.Sprintf("machine %.0f%% busy, %.2f cores used by other processes, %.0f%% stolen",
		100*busy/capacity, max(0, busy-ours), 100*(z.steal-a.steal).Seconds()/capacity)
}

// ---- the table ----

func printTable(rows []tableRow) {
	pr := func(format string, a ...any) { fmt.Printf("table: "+format+"\n", a...) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	per1k := func(d time.Duration, msgs int) float64 { return d.Seconds() * 1000 / float64(max(msgs, 1)) }
	pr("issue 13, item 4: %d employees; steady %d consumer messages/s for %s over %d consumers (%d Teams conversations, 1 message/s each, under Teams' limits); burst %d messages of %d new consumers, one callback",
		burstEmployees, tableSteadyRate, tableSteadyFor, tableSteadyConsumers, burstEmployees, burstConsumers*burstPerConsumer, burstConsumers)
	pr("%-7s | %-10s %-10s | %-22s %-22s | %-9s %-9s %-9s | %-26s | %-18s | %-9s | %s",
		"config", "floor 1/tx", "100/tx", "ingestion /s (×100/tx)", "welcomes /s (×100/tx)", "p50", "p99", "max", "CPU s / 1k msgs (PG part)", "stmts/msg", "peak RSS", "lost, 429s")
	for _, r := range rows {
		stmts := "n/a"
		if r.stmtSteady >= 0 {
			stmts = fmt.Sprintf("%.1f steady, %.1f burst", r.stmtSteady, r.stmtBurst)
		}
		pr("%-7s | %-10.0f %-10.0f | %-22s %-22s | %-9s %-9s %-9s | %-26s | %-18s | %-9s | %d, %d",
			r.cfg.name, r.floorOne, r.floorHundred,
			fmt.Sprintf("%.0f (%.3f; ×1/tx %.2f)", r.ingest, ratio(r.ingest, r.floorHundred), ratio(r.ingest, r.floorOne)),
			fmt.Sprintf("%.0f (%.3f; ×1/tx %.2f)", r.welcome, ratio(r.welcome, r.floorHundred), ratio(r.welcome, r.floorOne)),
			ms(r.p50), ms(r.p99), ms(r.pmax),
			fmt.Sprintf("steady %.2f (%.2f), burst %.2f (%.2f)", per1k(r.cpuSteady, r.steadySent), per1k(r.pgSteady, r.steadySent),
				per1k(r.cpuBurst, burstConsumers*burstPerConsumer), per1k(r.pgBurst, burstConsumers*burstPerConsumer)),
			stmts, fmt.Sprintf("%.0f MiB", float64(r.hwm)/(1<<20)), r.lost, r.throttled)
	}
	for _, r := range rows {
		pr("%s: burst stored %d of %d in %.2f s, %d of %d welcomed in %.2f s; steady %d of %d cards arrived, %d Teams requests (%.2f per message) to %d conversations; peak RSS %.1f MiB = %.1f MiB per 1,000 messages stored; %s",
			r.cfg.name, r.stored, burstConsumers*burstPerConsumer, r.ingestSpan.Seconds(), r.welcomed, burstConsumers, r.welcomeSpan.Seconds(),
			r.steadyArrived, r.steadySent, r.steadyTeamsReqs, ratio(float64(r.steadyTeamsReqs), float64(r.steadySent)), r.convs,
			float64(r.hwm)/(1<<20), float64(r.hwm)/(1<<20)/float64(max(1, r.stored+r.steadySent+tableSteadyConsumers))*1000, r.others)
		if r.split != "" {
			pr("  %s steady latency: %s", r.cfg.name, r.split)
		}
		for i, s := range r.topSteady {
			if i == 8 {
				break
			}
			pr("  %s steady top %d: %.2f/msg %s", r.cfg.name, i+1, float64(s.calls)/float64(r.steadySent), oneLine(s.query, 150))
		}
		for i, s := range r.topBurst {
			if i == 5 {
				break
			}
			pr("  %s burst top %d: %.2f/msg %s", r.cfg.name, i+1, float64(s.calls)/float64(burstConsumers*burstPerConsumer), oneLine(s.query, 150))
		}
	}

	// The targets.
	var out []string
	var pg1, pg2 *tableRow
	for i, r := range rows {
		switch r.cfg.name {
		case "pg1":
			pg1 = &rows[i]
		case "pg2":
			pg2 = &rows[i]
		}
		q := ratio(r.ingest, r.floorHundred)
		if q >= tableIngestTarget {
			out = append(out, fmt.Sprintf("%s ingestion %.3f of the floor >= %.2f: met", r.cfg.name, q, tableIngestTarget))
		} else {
			out = append(out, fmt.Sprintf("%s ingestion %.3f of the floor: GAP %.3f (%.0f/s short of %.0f/s)", r.cfg.name, q, tableIngestTarget-q,
				tableIngestTarget*r.floorHundred-r.ingest, tableIngestTarget*r.floorHundred))
		}
		if r.stmtSteady >= 0 {
			if r.stmtSteady <= tableStmtTarget {
				out = append(out, fmt.Sprintf("%s %.1f statements per message in steady state <= %.0f: met", r.cfg.name, r.stmtSteady, tableStmtTarget))
			} else {
				out = append(out, fmt.Sprintf("%s %.1f statements per message in steady state: GAP %.1f over %.0f", r.cfg.name, r.stmtSteady, r.stmtSteady-tableStmtTarget, tableStmtTarget))
			}
		}
		switch {
		case r.steadyArrived == 0:
			out = append(out, fmt.Sprintf("%s p99: GAP, no steady card arrived", r.cfg.name))
		case r.p99 <= tableP99Target:
			out = append(out, fmt.Sprintf("%s p99 %s <= %s: met", r.cfg.name, ms(r.p99), ms(tableP99Target)))
		default:
			out = append(out, fmt.Sprintf("%s p99 %s: GAP %s over %s", r.cfg.name, ms(r.p99), ms(r.p99-tableP99Target), ms(tableP99Target)))
		}
		if r.lost == 0 && r.throttled == 0 {
			out = append(out, fmt.Sprintf("%s 0 lost, 0 × 429: met", r.cfg.name))
		} else {
			out = append(out, fmt.Sprintf("%s %d lost, %d × 429 (%d in the steady phase, %d from the install to the burst's end): GAP %d lost (burst messages not stored within the cap plus steady cards not in Teams), %d × 429",
				r.cfg.name, r.lost, r.throttled, r.throttledSteady, r.throttled-r.throttledSteady, r.lost, r.throttled))
		}
	}
	if pg1 != nil && pg2 != nil {
		q := ratio(pg2.ingest, pg1.ingest)
		if q >= tableReplicaTarget {
			out = append(out, fmt.Sprintf("2 replicas ingest %.2f × 1 replica >= %.1f: met", q, tableReplicaTarget))
		} else {
			out = append(out, fmt.Sprintf("2 replicas ingest %.2f × 1 replica: GAP %.2f short of %.1f (%.0f/s short of %.0f/s)", q, tableReplicaTarget-q, tableReplicaTarget,
				tableReplicaTarget*pg1.ingest-pg2.ingest, tableReplicaTarget*pg1.ingest))
		}
	}
	for _, o := range out {
		pr("target: %s", o)
	}
}
