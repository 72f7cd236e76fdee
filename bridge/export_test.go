package bridge

// DisableCapture turns the archive capture off on s, for the benchmark's
// capture-off baseline only; production has no way to do this.
func DisableCapture(s *Service) { s.captureOff = true }
