package teamsapp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
)

// TestTokensRecordTheReviewerRole: on the real bridge, someone whose token
// holds Compliance.Review is remembered as a reviewer (alerts reach them);
// seen again without it, they are forgotten. Employees, admins and those
// configured by object id are not recorded.
func TestTokensRecordTheReviewerRole(t *testing.T) {
	w := newReviewWorld(t)
	ctx := context.Background()
	reviewers := func() []string {
		t.Helper()
		got, err := w.svc.ComplianceReviewers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, tok := range []string{"ann", "ada", "otto", "stranger"} {
		w.call(t, "GET", "/api/v1/me", tok, nil, nil)
	}
	if got := reviewers(); len(got) != 0 {
		t.Fatalf("reviewers after requests of people without the role: %v", got)
	}
	if code := w.call(t, "GET", "/api/v1/review/flagged", "rita", nil, nil); code != 200 {
		t.Fatalf("Rita's request: %d", code)
	}
	if got := reviewers(); !slices.Equal(got, []string{"oid-rita"}) {
		t.Fatalf("reviewers after Rita's request: %v", got)
	}
	// Her role is taken away: her next token has none.
	w.app.auth = tokenAuth{"rita": {TenantID: testTenant, ObjectID: "OID-RITA", Name: "Rita Review"}}
	if code := w.call(t, "GET", "/api/v1/review/flagged", "rita", nil, nil); code != 403 {
		t.Fatalf("Rita without the role: %d, want 403", code)
	}
	if got := reviewers(); len(got) != 0 {
		t.Fatalf("reviewers after Rita lost the role: %v", got)
	}
}

// countingNoter counts what it is told; fail makes it refuse.
type countingNoter struct {
	calls []string
	fail  bool
}

func (n *countingNoter) NoteReviewer(_ context.Context, id, _ string, holds bool) error {
	if holds {
		id += "+"
	}
	n.calls = append(n.calls, id)
	if n.fail {
		return errors.New("database is locked")
	}
	return nil
}

// TestNoteRoleWritesOnChange: the store is told of someone once, and again
// only when their role changes; a failed write is tried again next time.
func TestNoteRoleWritesOnChange(t *testing.T) {
	n := &countingNoter{}
	a := &App{noter: n, roles: map[string]bool{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rita := Identity{ObjectID: "oid-rita", Roles: []string{RoleComplianceReview}}
	ann := Identity{ObjectID: "oid-ann"}
	for _, id := range []Identity{rita, rita, ann, {ObjectID: "OID-RITA", Roles: rita.Roles}, ann, {ObjectID: "oid-rita"}, {}} {
		a.noteRole(context.Background(), id)
	}
	if want := []string{"oid-rita+", "oid-ann", "oid-rita"}; !slices.Equal(n.calls, want) {
		t.Fatalf("noted %v, want %v", n.calls, want)
	}
	n.calls, n.fail = nil, true
	bo := Identity{ObjectID: "oid-bo", Roles: rita.Roles}
	a.noteRole(context.Background(), bo)
	n.fail = false
	a.noteRole(context.Background(), bo)
	a.noteRole(context.Background(), bo)
	if want := []string{"oid-bo+", "oid-bo+"}; !slices.Equal(n.calls, want) {
		t.Fatalf("after a failure noted %v, want %v", n.calls, want)
	}
}

// TestMeOfAReviewerWhoIsNotAnEmployee: /me tells such a reviewer (by role or
// by MULTILINE_COMPLIANCE_REVIEWERS) that the review page is theirs, and no
// more; someone who is neither employee nor reviewer still gets 403.
func TestMeOfAReviewerWhoIsNotAnEmployee(t *testing.T) {
	w := newReviewWorld(t)
	for _, tc := range []struct{ tok, name string }{{"rita", "Rita Review"}, {"otto", "Otto"}} {
		var me meJSON
		if code := w.call(t, "GET", "/api/v1/me", tc.tok, nil, &me); code != 200 || !me.NotEmployee || !me.ComplianceReviewer ||
			me.Admin || me.ID != "" || me.Name != tc.name || me.ContactLink != "" {
			t.Errorf("/me of %s: %d %+v", tc.tok, code, me)
		}
	}
	var me meJSON
	if code := w.call(t, "GET", "/api/v1/me", "ann", nil, &me); code != 200 || me.NotEmployee || me.ID != w.ann {
		t.Errorf("/me of Ann, an employee: %d %+v", code, me)
	}
	if code := w.call(t, "GET", "/api/v1/me", "stranger", nil, nil); code != 403 {
		t.Errorf("/me of a stranger: %d, want 403", code)
	}
}
