package connector_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/metrics"
)

// countingServer serves h and counts the TCP connections clients open to it.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &opened
}

// parallel runs n calls of f on workers goroutines.
func parallel(t *testing.T, workers, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// The client keeps its connections: 500 sends from as many goroutines as
// deliveries run at once (4, the job runner's workers shared by every kind; 8,
// the Teams pool of the per-kind worker pools, which is the default idle pool's
// design point; 16 with a larger pool) open at most twice that many connections,
// however the goroutines are scheduled, and downloads open none. (Go's default
// transport keeps 2 idle connections per host, and opens 50 to 70 here for 16
// workers.)
//
// Why twice: a connection goes back to the pool a moment after its answer is
// read, in the transport's own goroutine, and a request that starts in that
// moment while no other connection is idle dials a new one. So at a dial every
// other connection is either in use (fewer than workers) or on its way back (at
// most one per worker), and with a pool of at least 2×workers none is closed.
// Unloaded, the count is the number of workers; on a busy machine it grows
// towards the bound.
func TestConnectionsReused(t *testing.T) {
	for _, tc := range []struct{ workers, idle int }{
		{runnerWorkers, 0}, // the default pool
		{connector.DefaultMaxIdleConnsPerHost / 2, 0},
		{16, 32},
	} {
		t.Run(fmt.Sprintf("%d workers", tc.workers), func(t *testing.T) {
			testConnectionsReused(t, tc.workers, connector.Options{MaxIdleConnsPerHost: tc.idle})
		})
	}
}

// runnerWorkers is the job runner's default number of workers shared by every
// job kind (storage/jobs.DefaultWorkers).
const runnerWorkers = 4

func testConnectionsReused(t *testing.T, workers int, opts connector.Options) {
	const sends, downloads = 500, 200
	limit := int64(2 * workers) // see TestConnectionsReused
	fake := fakeconnector.New(fakeconnector.Options{NoLimits: true})
	attachment := fake.AddAttachment("image/png", []byte("png bytes"))
	srv, opened := countingServer(t, fake)
	for w := range workers {
		fake.AddConversation(fmt.Sprint("a:conv", w), "tenant", fmt.Sprint("29:u", w))
	}
	c := connector.New(opts)
	ctx := context.Background()
	parallel(t, workers, sends, func(i int) error {
		_, err := c.SendActivity(ctx, srv.URL+"/", fmt.Sprint("a:conv", i%workers), connector.Text(fmt.Sprint("m", i)))
		return err
	})
	if n := opened.Load(); n > limit {
		t.Errorf("%d sends from %d workers opened %d connections, want at most %d", sends, workers, n, limit)
	}
	before := opened.Load()
	parallel(t, workers, downloads, func(int) error {
		_, err := c.Download(ctx, srv.URL+attachment, srv.URL+"/", 1<<20)
		return err
	})
	if n := opened.Load(); n > limit {
		t.Errorf("%d downloads opened %d more connections, %d in all, want at most %d: they do not reuse the API calls' ones", downloads, n-before, n, limit)
	}
	if got := len(fake.Requests()); got != sends+downloads {
		t.Fatalf("the fake saw %d requests", got)
	}
}

// The pool follows MaxIdleConnsPerHost.
func TestConnectionsPerHostConfigurable(t *testing.T) {
	if got := connector.NewTransport(0).MaxIdleConnsPerHost; got != connector.DefaultMaxIdleConnsPerHost {
		t.Errorf("default %d", got)
	}
	tr := connector.NewTransport(40)
	if tr.MaxIdleConnsPerHost != 40 || tr.MaxIdleConns < 40 || tr.IdleConnTimeout == 0 ||
		tr.TLSHandshakeTimeout == 0 || tr.ResponseHeaderTimeout == 0 || !tr.ForceAttemptHTTP2 || tr.Proxy == nil || tr.DialContext == nil {
		t.Errorf("transport %+v", tr)
	}
}

// responses reads multiline_http_client_responses_total{service="botconnector"} by status.
func responses(t *testing.T) map[string]float64 {
	t.Helper()
	fams, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "multiline_http_client_responses_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["service"] == "botconnector" {
				out[labels["status"]] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// Every Bot Connector answer is counted by status, and a request that got none as
// "error".
func TestResponsesCounted(t *testing.T) {
	fake := fakeconnector.New(fakeconnector.Options{NoLimits: true})
	fake.AddConversation("a:c", "tenant", "29:u")
	fake.Fail(fakeconnector.Failure{Op: "send", Status: http.StatusTooManyRequests, Code: "Throttled"})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := connector.New(connector.Options{})
	ctx := context.Background()
	before := responses(t)
	c.SendActivity(ctx, srv.URL, "a:c", connector.Text("throttled"))
	for range 3 {
		if _, err := c.SendActivity(ctx, srv.URL, "a:c", connector.Text("ok")); err != nil {
			t.Fatal(err)
		}
	}
	c.SendActivity(ctx, srv.URL, "a:gone", connector.Text("404"))
	c.SendActivity(ctx, "http://127.0.0.1:1/", "a:c", connector.Text("nobody there"))
	after := responses(t)
	for status, want := range map[string]float64{"429": 1, "201": 3, "404": 1, "error": 1} {
		if got := after[status] - before[status]; got != want {
			t.Errorf("status %s counted %v times, want %v", status, got, want)
		}
	}
}
