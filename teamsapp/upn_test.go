package teamsapp

import (
	"errors"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// TestSignInLearnsUPN: the tab's SSO token names the user's principal name
// (preferred_username in v2 tokens, upn in v1 ones, which wins when both are
// there), and the employee signing in gets it, again when it changes; a value
// that is not an address is not stored and does not stop the sign-in.
func TestSignInLearnsUPN(t *testing.T) {
	f := newFixture(t, false)
	is := newIssuer(t, "k1")
	f.app.auth = is.authenticator(t, time.Now)
	upnOf := func() string {
		t.Helper()
		e, err := f.b.Employee(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		return e.UPN
	}
	signIn := func(claims map[string]any) {
		t.Helper()
		c := goodClaims(time.Now())
		for k, v := range claims {
			c[k] = v
		}
		var me meJSON
		if code := f.call(t, "GET", "/api/v1/me", is.sign(t, "k1", c), nil, &me); code != 200 || me.ID != "alice" {
			t.Fatalf("me = %d %+v", code, me)
		}
	}
	if signIn(nil); upnOf() != "" {
		t.Fatalf("a token without a UPN stored %q", upnOf())
	}
	for _, step := range []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"preferred_username": "alice@contoso.example"}, "alice@contoso.example"},
		{map[string]any{"preferred_username": "alice@contoso.example", "upn": "alice.chen@contoso.example"}, "alice.chen@contoso.example"},
		{map[string]any{"preferred_username": "Alice Chen"}, "alice.chen@contoso.example"}, // not an address: kept as it was
	} {
		signIn(step.claims)
		if got := upnOf(); got != step.want {
			t.Errorf("after a sign-in with %v the UPN is %q, want %q", step.claims, got, step.want)
		}
	}
}

// TestAdminAddsWithUPN: a person added from the directory gets the
// directory's userPrincipalName; one that is not an address is refused before
// anyone is added.
func TestAdminAddsWithUPN(t *testing.T) {
	f := newFixture(t, false)
	var e employeeJSON
	if code := f.call(t, "POST", "/api/v1/admin/employees", "alice", map[string]string{"aad_object_id": "oid-erin", "name": "Erin", "upn": "erin@contoso.example"}, &e); code != 201 || e.UPN != "erin@contoso.example" {
		t.Fatalf("add = %d %+v", code, e)
	}
	var ae apiError
	if code := f.call(t, "POST", "/api/v1/admin/employees", "alice", map[string]string{"aad_object_id": "oid-finn", "name": "Finn", "upn": "Finn <finn@x>"}, &ae); code != 400 {
		t.Fatalf("bad upn = %d %q", code, ae.Error)
	}
	if _, err := f.b.EmployeeByAAD(t.Context(), testTenant, "oid-finn"); !errors.Is(err, bridge.ErrUnknownEmployee) {
		t.Fatalf("after a refused add: %v, want no such employee", err)
	}
}
