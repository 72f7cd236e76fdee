package bot

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// BenchmarkDeliverOneConversation pushes b.N notices to one employee. The ceiling
// is Teams' per-conversation limit: IdealDuration gives the least time a perfect
// scheduler needs for the same number, so "of_ceiling" is measured/ideal rate.
func BenchmarkDeliverOneConversation(b *testing.B) {
	en := newEnv(b, false)
	e := en.employee("ann")
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if _, err := en.deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverNotice, Text: fmt.Sprint("n", i)}); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	report(b, b.N, elapsed, IdealDuration(b.N, ConversationLimits), en.fake.Throttled())
}

// BenchmarkDeliverTenant pushes b.N notices spread over 40 employees of one tenant
// from 40 workers. The ceiling is the per-tenant limit of 50 requests per second
// (each conversation alone could do 7/s, so the tenant limit binds).
func BenchmarkDeliverTenant(b *testing.B) {
	en := newEnv(b, false)
	const workers = 40
	emps := make([]bridge.Employee, workers)
	for i := range emps {
		emps[i] = en.employee(fmt.Sprintf("e%d", i))
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += workers {
				if _, err := en.deliver(ctx, bridge.Delivery{Employee: emps[w], Kind: bridge.DeliverNotice, Text: fmt.Sprint("n", i)}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	// Per-conversation limits alone would allow more; the tenant window is the ceiling.
	report(b, b.N, elapsed, IdealDuration(b.N, TenantLimits), en.fake.Throttled())
}

func report(b *testing.B, n int, elapsed, ideal time.Duration, throttled int) {
	b.Helper()
	rate := float64(n) / elapsed.Seconds()
	b.ReportMetric(rate, "deliveries/s")
	if n > 1 && ideal > 0 {
		// n deliveries span n-1 intervals in the ideal schedule; compare like with like.
		idealRate := float64(n-1) / ideal.Seconds()
		measured := float64(n-1) / elapsed.Seconds()
		b.ReportMetric(measured/idealRate, "of_ceiling")
	}
	b.ReportMetric(float64(throttled), "429s")
	if throttled > 0 {
		b.Errorf("%d requests throttled by the fake connector", throttled)
	}
}

func TestIdealDuration(t *testing.T) {
	cases := []struct {
		n    int
		ws   []Window
		want time.Duration
	}{
		{1, ConversationLimits, 0},
		{7, ConversationLimits, 0},
		{8, ConversationLimits, time.Second},     // the 8th waits for the 1 s window
		{9, ConversationLimits, 2 * time.Second}, // the 9th waits for the 2 s window
		{51, TenantLimits, time.Second},
		{101, TenantLimits, 2 * time.Second},
	}
	for _, tc := range cases {
		if got := IdealDuration(tc.n, tc.ws); got != tc.want {
			t.Errorf("IdealDuration(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
