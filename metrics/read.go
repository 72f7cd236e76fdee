package metrics

// Sum adds up the values of family name's series in Registry whose labels
// include match: counters and gauges by value, histograms and summaries by
// their count of observations. It is for tests and diagnostics.
func Sum(name string, match map[string]string) float64 {
	fams, _ := Registry.Gather()
	total := 0.0
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
	}
	return total
}
