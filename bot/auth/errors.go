package auth

import "errors"

// Errors of Validate. All of them mean "reject the request"; ErrNoToken and
// ErrInvalidToken call for 401, ErrForbidden for 403. ErrKeysUnavailable means the
// metadata could not be fetched: the request cannot be checked, so it is refused
// too, but the cause is on our side (log it, alert).
var (
	ErrNoToken         = errors.New("no bearer token")
	ErrInvalidToken    = errors.New("invalid token")
	ErrForbidden       = errors.New("token not valid for this activity")
	ErrKeysUnavailable = errors.New("signing keys unavailable")
)
