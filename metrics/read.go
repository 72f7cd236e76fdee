package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Sum adds up the values of family name's series in Registry whose labels
// include match: counters and gauges by value, histograms and summaries by
// their count of observations. It is for tests and diagnostics.
func Sum(name string, match map[string]string) float64 {
	total := 0.0
	for _, m := range Find(Registry, name, match) {
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		case m.Summary != nil:
			total += float64(m.GetSummary().GetSampleCount())
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

// Find returns the series of family name in g whose labels include match, in
// the order g gathers them (none if gathering fails). For tests and diagnostics.
func Find(g prometheus.Gatherer, name string, match map[string]string) []*dto.Metric {
	fams, _ := g.Gather()
	var out []*dto.Metric
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range match {
				if have[k] != v {
					continue series
				}
			}
			out = append(out, m)
		}
	}
	return out
}
