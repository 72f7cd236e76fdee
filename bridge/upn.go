package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// The archive addresses employees by their Entra user principal name
// (archive.Party.Address), which Teams' activities do not carry. The service
// learns it where the product sees it legitimately: the tab's SSO token names
// the signed-in user (upn, preferred_username), and the directory (Microsoft
// Graph) names the people an admin adds. Each sign-in refreshes it, so a
// renamed account is addressed by its new name from then on; events captured
// before keep the address they recorded.

// ErrInvalidUPN: what was given as a user principal name is not an address.
var ErrInvalidUPN = errors.New("not a user principal name (name@domain)")

// maxUPN bounds a UPN: Entra allows 113 characters; an RFC 5321 address 254.
const maxUPN = 254

// CheckUPN reports whether upn can address an employee: a bare addr-spec
// (name@domain, no display name, no angle brackets), at most 254 bytes.
func CheckUPN(upn string) error {
	if upn == "" || len(upn) > maxUPN || strings.TrimSpace(upn) != upn {
		return fmt.Errorf("%w: %q", ErrInvalidUPN, upn)
	}
	a, err := mail.ParseAddress(upn)
	if err != nil || a.Name != "" || a.Address != upn || !strings.Contains(upn, "@") {
		return fmt.Errorf("%w: %q", ErrInvalidUPN, upn)
	}
	return nil
}

// LearnUPN records the employee's user principal name when it is new or has
// changed, and does nothing otherwise (the tab calls it on sign-ins, which
// are frequent). A value that is not an address is refused with ErrInvalidUPN
// and changes nothing.
func (s *Service) LearnUPN(ctx context.Context, id EmployeeID, upn string) error {
	if err := CheckUPN(upn); err != nil {
		return err
	}
	// No job depends on it: the runner need not be woken (s.tx).
	return s.store.Tx(ctx, func(tx Tx) error {
		e, err := tx.Employee(ctx, id)
		if err != nil || e.UPN == upn {
			return err
		}
		e.UPN = upn
		return tx.SaveEmployee(ctx, e)
	})
}
