package teamsapp

import (
	"context"
	"errors"
)

// Identity is who a valid SSO token names.
type Identity struct {
	TenantID string // tid
	ObjectID string // oid: the Entra object id of the user
	Name     string // name, for logs and the admin page
	// UPN is the user principal name (the upn claim of v1 tokens,
	// preferred_username of v2 ones): the archive addresses employees by it.
	UPN string
	// Roles are the app roles assigned to the user (the token's roles claim):
	// RoleAdmin and RoleComplianceReview grant what the object id lists grant.
	Roles []string
}

// App roles of the MultiLine app registration. An admin assigns them in Entra
// (Enterprise applications → Users and groups), so nobody has to edit the
// server's MULTILINE_ADMINS to make a colleague an admin.
const (
	// RoleAdmin may use the admin page and its API.
	RoleAdmin = "MultiLine.Admin"
	// RoleComplianceReview may review archived conversations (compliance screens).
	RoleComplianceReview = "Compliance.Review"
)

// Authenticator checks a bearer token from the tab and says whom it names.
type Authenticator interface {
	// Authenticate returns the identity of a valid token, or an error wrapping
	// ErrInvalidToken (the caller answers 401) or ErrKeysUnavailable (503).
	Authenticate(ctx context.Context, token string) (Identity, error)
}

// ErrInvalidToken is wrapped by every reason to refuse a token: the client should
// get a new one.
var ErrInvalidToken = errors.New("invalid token")

// ErrKeysUnavailable means the signing keys could not be fetched: the token may be
// fine, try again later.
var ErrKeysUnavailable = errors.New("token signing keys unavailable")
