package fakewechat

import (
	"context"
	"time"
)

// Fault changes how the next call to an API path behaves. Faults apply once each,
// in the order they were injected.
type Fault struct {
	// Path is the API path, e.g. "/cgi-bin/kf/send_msg".
	Path string `json:"path"`
	// Errcode, when set, is answered instead of doing the call (nothing is delivered).
	Errcode int `json:"errcode,omitempty"`
	// HTTPStatus, when set, answers with that status and no body (nothing is delivered).
	HTTPStatus int `json:"http_status,omitempty"`
	// Delay holds the answer back after the call took effect: a send is delivered
	// but the client may time out first, as with a slow network.
	Delay time.Duration `json:"delay,omitempty"`
	// FailType, for sends: accept the send (errcode 0, it counts) but do not deliver;
	// queue a msg_send_fail event with this fail_type instead.
	FailType int `json:"fail_type,omitempty"`
}

// InjectFault queues f for the next call to f.Path.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// takeFaultLocked removes and returns the first fault for path.
func (s *Server) takeFaultLocked(path string) (Fault, bool) {
	for i, f := range s.faults {
		if f.Path == path {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return f, true
		}
	}
	return Fault{}, false
}

type failTypeKey struct{}

func withFailType(ctx context.Context, ft int) context.Context {
	return context.WithValue(ctx, failTypeKey{}, ft)
}

func failTypeFrom(ctx context.Context) int {
	ft, _ := ctx.Value(failTypeKey{}).(int)
	return ft
}
