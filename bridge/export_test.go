package bridge

// SetCapture turns the archive capture on or off on s, for the benchmark's
// capture-off baseline only; production has no way to turn it off.
func SetCapture(s *Service, on bool) { s.captureOff = !on }
