package bridge_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/internal/emltest"
)

// TestCaptureAddressesByUPN: once the service has learnt an employee's user
// principal name, the events captured about them carry it; events captured
// before keep what they captured. The day's EML addresses each employee by
// the last UPN the day's record holds for them, or by the one the store
// knows now when their events recorded none, so a later rename leaves the
// exported day as it was. On SQLite and PostgreSQL.
func TestCaptureAddressesByUPN(t *testing.T) {
	for _, be := range captureBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			db := openStore(t, be.url(t))
			f := newFixtureOn(t, db)
			alice := f.employee("Alice")
			if err := f.svc.LearnUPN(ctx, alice, "alice@contoso.example"); err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"", "Alice <alice@contoso.example>", "no-at-sign", " alice@contoso.example", "a@b@c"} {
				if err := f.svc.LearnUPN(ctx, alice, bad); !errors.Is(err, bridge.ErrInvalidUPN) {
					t.Errorf("LearnUPN(%q) = %v, want ErrInvalidUPN", bad, err)
				}
			}
			if e, _ := f.svc.Employee(ctx, alice); e.UPN != "alice@contoso.example" {
				t.Fatalf("after refused values the UPN is %q", e.UPN)
			}

			f.consumerWrites("wmWang", "w1", "Hello, a question")
			f.drain()
			thread := f.onlyThread(alice).ID
			bob := f.employee("Bob") // after the routing, which would take turns
			send := func(who bridge.EmployeeID, text string) {
				t.Helper()
				if _, err := f.svc.Send(ctx, who, thread, bridge.Content{Text: text}); err != nil {
					t.Fatal(err)
				}
				f.drain()
			}
			send(alice, "Hello from Alice")
			if err := f.svc.AddParticipant(ctx, alice, thread, bob); err != nil {
				t.Fatal(err)
			}
			send(bob, "Hello from Bob")
			// Learnt afterwards: Bob's UPN, and Alice's account renamed.
			if err := f.svc.LearnUPN(ctx, bob, "bob@contoso.example"); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.LearnUPN(ctx, alice, "alice.smith@contoso.example"); err != nil {
				t.Fatal(err)
			}
			send(alice, "Alice again")

			recorded := map[string]string{}
			for _, e := range chainOf(t, db, "default", string(thread)) {
				var b archive.MessageBody
				if e.Kind == archive.KindMessageOut && e.Decode(&b) == nil {
					recorded[b.Text] = b.Author.Address
				}
			}
			want := map[string]string{"Hello from Alice": "alice@contoso.example", "Hello from Bob": "", "Alice again": "alice.smith@contoso.example"}
			for text, addr := range want {
				if recorded[text] != addr {
					t.Errorf("%q recorded its author at %q, want %q", text, recorded[text], addr)
				}
			}

			day := archive.DayOf(f.now())
			o := archive.ExportOptions{From: day, To: day, Channel: archive.ChannelWeComKF}
			export := func() ([]string, []byte) {
				t.Helper()
				files, err := archive.ExportEML(ctx, db, db, t.TempDir(), o)
				if err != nil || len(files) != 1 {
					t.Fatalf("export: %q %v", files, err)
				}
				raw, err := os.ReadFile(files[0])
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, a := range emltest.Addresses(t, raw, "From", "To") {
					got = append(got, a.Name+" <"+a.Address+">")
				}
				return got, raw
			}
			got, first := export()
			if w := []string{" <wechat-wmWang@wechat.invalid>", "Alice <alice.smith@contoso.example>", "Bob <bob@contoso.example>"}; !slices.Equal(got, w) {
				t.Errorf("From and To are %q, want %q", got, w)
			}
			if err := f.svc.LearnUPN(ctx, alice, "a.smith@fabrikam.example"); err != nil {
				t.Fatal(err)
			}
			if _, again := export(); string(again) != string(first) {
				t.Error("a rename after the day changed its EML")
			}
		})
	}
}
