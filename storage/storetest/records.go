package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 123456000, time.UTC)

func company(id bridge.CompanyID) bridge.Company {
	p := bridge.DefaultPolicy()
	p.QueueLimit = 7
	return bridge.Company{
		ID: id, Name: "Contoso " + string(id), TenantID: "tenant-" + string(id), Policy: p,
		Overrides: bridge.Overrides{bridge.NoticeConsumerWelcome: {bridge.English: "Hi there"}},
		Language:  bridge.SimplifiedChinese,
	}
}

func employeeOf(c bridge.CompanyID, id bridge.EmployeeID, name string) bridge.Employee {
	return bridge.Employee{
		ID: id, Company: c, TenantID: "tenant-" + string(c), AADObjectID: "aad-" + string(id),
		TeamsUserID: "29:" + string(id), Name: name, Enabled: true, Locale: "en-US",
		Conversation: bridge.ConversationRef{ServiceURL: "https://smba.example/", ConversationID: "a:" + string(id)},
	}
}

func threadOf(c bridge.CompanyID, id bridge.ThreadID, consumer bridge.ConsumerID, updated time.Time, ps ...bridge.EmployeeID) bridge.ThreadRecord {
	return bridge.ThreadRecord{
		Thread: bridge.Thread{
			ID: id, Consumer: consumer, Status: bridge.StatusActive, LastConsumerAt: t0, Sends: 2, Streak: 1,
			Participants: ps, Seq: 3,
			Queue: []bridge.Pending{{ID: bridge.MessageIDFor(id, 3), Seq: 3, Author: "e1", Body: bridge.Content{Text: "queued"}}},
		},
		Company: c, Account: "wk-1", CreatedAt: t0, UpdatedAt: updated,
	}
}

func mustErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func runRecords(t *testing.T, f Factory) {
	t.Run("companies", func(t *testing.T) {
		s := f(t)()
		want := company("c1")
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error { return tx.SaveCompany(ctx, want) })
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			got, err := tx.Company(ctx, "c1")
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("company = %+v, want %+v", got, want)
			}
			_, err = tx.Company(ctx, "nope")
			mustErr(t, err, bridge.ErrUnknownCompany)
			want.Name = "Renamed"
			return tx.SaveCompany(ctx, want)
		})
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			got, err := tx.Company(ctx, "c1")
			if got.Name != "Renamed" {
				t.Errorf("after update name = %q", got.Name)
			}
			return err
		})
	})

	t.Run("employees", func(t *testing.T) {
		s := f(t)()
		a, b, c := employeeOf("c1", "e1", "Bob"), employeeOf("c1", "e2", "Alice"), employeeOf("c1", "e3", "Carol")
		c.Enabled = false
		b.ContactScene, b.ContactLink = "scene-b", "https://work.weixin.qq.com/kf/b"
		b.UPN = "alice@c1.example"
		a.Blocked, a.BlockedReason = true, "BotDisabledByAdmin"
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			for _, e := range []bridge.Employee{a, b, c} {
				if err := tx.SaveCompany(ctx, company("c1")); err != nil {
					return err
				}
				if err := tx.SaveEmployee(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			lookups := []struct {
				name string
				get  func() (bridge.Employee, error)
				want bridge.Employee
			}{
				{"by id", func() (bridge.Employee, error) { return tx.Employee(ctx, "e1") }, a},
				{"by Teams user", func() (bridge.Employee, error) { return tx.EmployeeByTeamsUser(ctx, "tenant-c1", "29:e2") }, b},
				{"disabled by Teams user", func() (bridge.Employee, error) { return tx.EmployeeByTeamsUser(ctx, "tenant-c1", "29:e3") }, c},
				{"by Entra id", func() (bridge.Employee, error) { return tx.EmployeeByAAD(ctx, "tenant-c1", "aad-e2") }, b},
				{"by scene", func() (bridge.Employee, error) { return tx.EmployeeByScene(ctx, "c1", "scene-b") }, b},
			}
			for _, l := range lookups {
				got, err := l.get()
				if err != nil {
					t.Errorf("%s: %v", l.name, err)
				} else if !reflect.DeepEqual(got, l.want) {
					t.Errorf("%s = %+v, want %+v", l.name, got, l.want)
				}
			}
			misses := []struct {
				name string
				get  func() (bridge.Employee, error)
			}{
				{"id", func() (bridge.Employee, error) { return tx.Employee(ctx, "nope") }},
				{"Teams user of another tenant", func() (bridge.Employee, error) { return tx.EmployeeByTeamsUser(ctx, "other", "29:e2") }},
				{"empty Teams user", func() (bridge.Employee, error) { return tx.EmployeeByTeamsUser(ctx, "tenant-c1", "") }},
				{"Entra id", func() (bridge.Employee, error) { return tx.EmployeeByAAD(ctx, "tenant-c1", "aad-x") }},
				{"scene", func() (bridge.Employee, error) { return tx.EmployeeByScene(ctx, "c1", "scene-x") }},
				{"empty scene", func() (bridge.Employee, error) { return tx.EmployeeByScene(ctx, "c1", "") }},
				{"scene of another company", func() (bridge.Employee, error) { return tx.EmployeeByScene(ctx, "c2", "scene-b") }},
			}
			for _, m := range misses {
				_, err := m.get()
				if !errors.Is(err, bridge.ErrUnknownEmployee) {
					t.Errorf("%s: error = %v, want ErrUnknownEmployee", m.name, err)
				}
			}
			list, err := tx.Employees(ctx, "c1")
			if err != nil {
				return err
			}
			if got := ids(list); !reflect.DeepEqual(got, []bridge.EmployeeID{"e2", "e1", "e3"}) {
				t.Errorf("Employees by name = %v", got)
			}
			byID, err := tx.EmployeesByID(ctx, []bridge.EmployeeID{"e3", "e1"})
			if err != nil {
				return err
			}
			if got := ids(byID); !reflect.DeepEqual(got, []bridge.EmployeeID{"e3", "e1"}) {
				t.Errorf("EmployeesByID order = %v", got)
			}
			_, err = tx.EmployeesByID(ctx, []bridge.EmployeeID{"e1", "nope"})
			mustErr(t, err, bridge.ErrUnknownEmployee)
			return nil
		})
		// Round robin: enabled only, reachable ones first, each in turn.
		var routed []bridge.EmployeeID
		for i := range 4 {
			tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
				e, err := tx.NextPoolEmployee(ctx, "c1", t0.Add(time.Duration(i)*time.Minute))
				routed = append(routed, e.ID)
				return err
			})
		}
		if want := []bridge.EmployeeID{"e2", "e2", "e2", "e2"}; !reflect.DeepEqual(routed, want) {
			t.Errorf("pool with one reachable employee routed %v, want %v", routed, want)
		}
		a.Blocked = false
		routed = nil
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error { return tx.SaveEmployee(ctx, a) })
		for i := range 6 {
			tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
				e, err := tx.NextPoolEmployee(ctx, "c1", t0.Add(time.Hour+time.Duration(i)*time.Minute))
				routed = append(routed, e.ID)
				return err
			})
			if i == 2 {
				// Saving an employee does not disturb the turns.
				tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
					b.Name = "Alice B."
					return tx.SaveEmployee(ctx, b)
				})
			}
		}
		for i, e := range routed {
			if i > 0 && e == routed[i-1] || i > 1 && e != routed[i-2] || e != "e1" && e != "e2" {
				t.Errorf("round robin over e1 and e2 routed %v, want them in turn", routed)
				break
			}
		}
		// Two routings in one transaction take two turns.
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			first, err := tx.NextPoolEmployee(ctx, "c1", t0)
			if err != nil {
				return err
			}
			second, err := tx.NextPoolEmployee(ctx, "c1", t0)
			if err == nil && first.ID == second.ID {
				t.Errorf("two routings in one transaction both went to %s", first.ID)
			}
			return err
		})
		err := s.Tx(t.Context(), func(tx bridge.Tx) error {
			_, err := tx.NextPoolEmployee(t.Context(), "c2", t0)
			return err
		})
		mustErr(t, err, bridge.ErrUnknownEmployee)
		// Unique Teams identity.
		err = s.Tx(t.Context(), func(tx bridge.Tx) error {
			dup := employeeOf("c1", "e9", "Dup")
			dup.TeamsUserID = b.TeamsUserID
			return tx.SaveEmployee(t.Context(), dup)
		})
		if err == nil {
			t.Error("a second employee with the same Teams user was saved")
		}
	})

	t.Run("consumers and cursors", func(t *testing.T) {
		s := f(t)()
		want := bridge.Consumer{Company: "c1", ID: "wm-1", Name: "Li Lei", Language: bridge.SimplifiedChinese, RouteHint: "e2",
			AvatarURL: "http://wx.qlogo.cn/wm-1/0", ProfiledAt: t0}
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			if err := tx.SaveCompany(ctx, company("c1")); err != nil {
				return err
			}
			if err := tx.SaveConsumer(ctx, want); err != nil {
				return err
			}
			_, err := tx.Cursor(ctx, "c1", "wk-1")
			mustErr(t, err, bridge.ErrNotFound)
			if err := tx.SaveCursor(ctx, "c1", "wk-1", "cur-1"); err != nil {
				return err
			}
			return tx.SaveCursor(ctx, "c1", "wk-1", "cur-2")
		})
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			got, err := tx.Consumer(ctx, "c1", "wm-1")
			if err != nil {
				return err
			}
			if got != want {
				t.Errorf("consumer = %+v, want %+v", got, want)
			}
			_, err = tx.Consumer(ctx, "c2", "wm-1")
			mustErr(t, err, bridge.ErrNotFound)
			some, err := tx.ConsumersByID(ctx, "c1", []bridge.ConsumerID{"wm-1", "wm-2"})
			if err != nil {
				return err
			}
			if len(some) != 1 || some["wm-1"] != want {
				t.Errorf("ConsumersByID = %+v, want wm-1 only", some)
			}
			if none, err := tx.ConsumersByID(ctx, "c2", []bridge.ConsumerID{"wm-1"}); err != nil || len(none) != 0 {
				t.Errorf("ConsumersByID of another company = %+v, %v", none, err)
			}
			cur, err := tx.Cursor(ctx, "c1", "wk-1")
			if cur != "cur-2" {
				t.Errorf("cursor = %q, want cur-2", cur)
			}
			return err
		})
	})

	t.Run("threads", func(t *testing.T) {
		s := f(t)()
		old := threadOf("c1", "t1", "wm-1", t0, "e1", "e2")
		newer := threadOf("c1", "t2", "wm-1", t0.Add(time.Hour), "e2")
		optin := threadOf("c1", "t3", "", t0.Add(2*time.Hour), "e1")
		optin.Status, optin.OptInScene, optin.OptInLink = bridge.StatusAwaitingOptIn, "optin-t3", "https://example/t3"
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			if err := tx.SaveCompany(ctx, company("c1")); err != nil {
				return err
			}
			for _, tr := range []bridge.ThreadRecord{old, newer, optin} {
				if err := tx.SaveThread(ctx, tr); err != nil {
					return err
				}
			}
			return nil
		})
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			got, err := tx.LoadThread(ctx, "t1")
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(norm(got), norm(old)) {
				t.Errorf("thread = %+v\nwant %+v", got, old)
			}
			_, err = tx.LoadThread(ctx, "nope")
			mustErr(t, err, bridge.ErrUnknownThread)
			live, err := tx.LiveThread(ctx, "c1", "wm-1")
			if err != nil || live != "t2" {
				t.Errorf("LiveThread = %q, %v; want t2", live, err)
			}
			_, err = tx.LiveThread(ctx, "c1", "wm-2")
			mustErr(t, err, bridge.ErrUnknownThread)
			id, err := tx.ThreadByOptInScene(ctx, "c1", "optin-t3")
			if err != nil || id != "t3" {
				t.Errorf("ThreadByOptInScene = %q, %v; want t3", id, err)
			}
			_, err = tx.ThreadByOptInScene(ctx, "c1", "optin-x")
			mustErr(t, err, bridge.ErrUnknownThread)
			threads, err := tx.ThreadsOf(ctx, "e1")
			if err != nil {
				return err
			}
			if got := threadIDs(threads); !reflect.DeepEqual(got, []bridge.ThreadID{"t3", "t1"}) {
				t.Errorf("ThreadsOf(e1) = %v, want [t3 t1]", got)
			}
			// e1 leaves t1, e3 joins: the participant index follows.
			old.Participants = []bridge.EmployeeID{"e2", "e3"}
			old.UpdatedAt = t0.Add(3 * time.Hour)
			return tx.SaveThread(ctx, old)
		})
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			for e, want := range map[bridge.EmployeeID][]bridge.ThreadID{
				"e1": {"t3"}, "e2": {"t1", "t2"}, "e3": {"t1"}, "e4": nil,
			} {
				threads, err := tx.ThreadsOf(ctx, e)
				if err != nil {
					return err
				}
				if got := threadIDs(threads); !reflect.DeepEqual(got, want) {
					t.Errorf("ThreadsOf(%s) = %v, want %v", e, got, want)
				}
			}
			got, err := tx.LoadThread(ctx, "t1")
			if !reflect.DeepEqual(got.Participants, []bridge.EmployeeID{"e2", "e3"}) || !got.CreatedAt.Equal(t0) {
				t.Errorf("updated thread: participants %v created %v", got.Participants, got.CreatedAt)
			}
			return err
		})
		err := s.Tx(t.Context(), func(tx bridge.Tx) error {
			return tx.SaveThread(t.Context(), threadOf("nope", "t9", "wm-9", t0))
		})
		if err == nil {
			t.Error("a thread of an unknown company was saved")
		}
	})

	t.Run("messages", func(t *testing.T) {
		s := f(t)()
		msgs := make([]bridge.MessageRecord, 5)
		for i := range msgs {
			seq := int64(i + 1)
			msgs[i] = bridge.MessageRecord{
				ID: bridge.MessageIDFor("t1", seq), Thread: "t1", Seq: seq, From: bridge.FromEmployee, Author: "e1",
				Body: bridge.Content{Text: "hello", MediaKind: "image", MediaRef: "m1", FileName: "a.png"},
				Text: "hello", Status: bridge.StatusQueued, Position: i, WeChatMsgID: "",
				At: t0.Add(time.Duration(i) * time.Second), UpdatedAt: t0.Add(time.Duration(i) * time.Second),
			}
		}
		msgs[0].From, msgs[0].Author, msgs[0].Status, msgs[0].WeChatMsgID = bridge.FromConsumer, "", bridge.StatusReceived, "wx-1"
		msgs[1].From, msgs[1].Author, msgs[1].Notice = bridge.FromSystem, "", bridge.NoticeConsumerWelcome
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			if err := tx.SaveCompany(ctx, company("c1")); err != nil {
				return err
			}
			if err := tx.SaveThread(ctx, threadOf("c1", "t1", "wm-1", t0)); err != nil {
				return err
			}
			// Inserted out of order: Messages orders by seq.
			for _, i := range []int{0, 1, 3, 2, 4} {
				if err := tx.InsertMessage(ctx, msgs[i]); err != nil {
					return err
				}
			}
			return nil
		})
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			got, err := tx.Message(ctx, msgs[0].ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, msgs[0]) {
				t.Errorf("message = %+v\nwant %+v", got, msgs[0])
			}
			_, err = tx.Message(ctx, "nope")
			mustErr(t, err, bridge.ErrUnknownMessage)
			for _, c := range []struct {
				limit int
				want  []bridge.MessageRecord
			}{{0, msgs}, {2, msgs[3:]}, {10, msgs}} {
				got, err := tx.Messages(ctx, "t1", c.limit)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("Messages(limit %d) = %d messages %v, want %d", c.limit, len(got), seqs(got), len(c.want))
				}
			}
			none, err := tx.Messages(ctx, "t2", 0)
			if err != nil || len(none) != 0 {
				t.Errorf("Messages of an empty thread = %v, %v", none, err)
			}
			if err := tx.UpdateMessage(ctx, msgs[4].ID, bridge.StatusFailed, "window_closed", 0, t0.Add(time.Hour)); err != nil {
				return err
			}
			mustErr(t, tx.UpdateMessage(ctx, "nope", bridge.StatusSent, "", 0, t0), bridge.ErrUnknownMessage)
			got, err = tx.Message(ctx, msgs[4].ID)
			if got.Status != bridge.StatusFailed || got.Reason != "window_closed" || got.Position != 0 || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
				t.Errorf("updated message = %+v", got)
			}
			return err
		})
		for _, dup := range []bridge.MessageRecord{msgs[2], func() bridge.MessageRecord { m := msgs[2]; m.ID = "other"; return m }()} {
			err := s.Tx(t.Context(), func(tx bridge.Tx) error { return tx.InsertMessage(t.Context(), dup) })
			if err == nil {
				t.Errorf("duplicate message %s (seq %d) was inserted", dup.ID, dup.Seq)
			}
		}
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			for _, c := range []struct {
				company bridge.CompanyID
				id      string
				want    bool
			}{{"c1", "wx-1", true}, {"c1", "wx-1", false}, {"c2", "wx-1", true}, {"c1", "wx-2", true}} {
				got, err := tx.MarkInbound(ctx, c.company, c.id)
				if err != nil {
					return err
				}
				if got != c.want {
					t.Errorf("MarkInbound(%s, %s) = %v, want %v", c.company, c.id, got, c.want)
				}
			}
			return tx.Audit(ctx, bridge.AuditRecord{Thread: "t1", At: t0, Event: "ConsumerMessage",
				Detail: json.RawMessage(`{"text":"hello"}`), Actions: json.RawMessage(`[]`)})
		})
	})

	t.Run("cards", func(t *testing.T) {
		s := f(t)()
		c1 := bridge.CardRecord{Employee: "e1", Thread: "t1", ActivityID: "act-1", Messages: []bridge.MessageID{"t1-1", "t1-2"}, UpdatedAt: t0}
		c2 := bridge.CardRecord{Employee: "e1", Thread: "t1", ActivityID: "act-2", Messages: []bridge.MessageID{"t1-2", "t1-3"}, UpdatedAt: t0.Add(time.Minute)}
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			if _, ok, err := tx.LastCard(ctx, "e1", "t1"); ok || err != nil {
				t.Errorf("LastCard before any = %v, %v", ok, err)
			}
			if err := tx.SaveCard(ctx, c1); err != nil {
				return err
			}
			return tx.SaveCard(ctx, c2)
		})
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			last, ok, err := tx.LastCard(ctx, "e1", "t1")
			if err != nil || !ok || !reflect.DeepEqual(last, c2) {
				t.Errorf("LastCard = %+v, %v, %v; want %+v", last, ok, err, c2)
			}
			for m, want := range map[bridge.MessageID]string{"t1-1": "act-1", "t1-2": "act-2", "t1-3": "act-2"} {
				c, ok, err := tx.CardForMessage(ctx, "e1", m)
				if err != nil || !ok || c.ActivityID != want {
					t.Errorf("CardForMessage(%s) = %q, %v, %v; want %s", m, c.ActivityID, ok, err, want)
				}
			}
			if _, ok, err := tx.CardForMessage(ctx, "e2", "t1-1"); ok || err != nil {
				t.Errorf("CardForMessage of another employee = %v, %v", ok, err)
			}
			return nil
		})
	})

	t.Run("rollback", func(t *testing.T) {
		s := f(t)()
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			if err := tx.SaveCompany(ctx, company("c1")); err != nil {
				return err
			}
			return tx.SaveThread(ctx, threadOf("c1", "t1", "wm-1", t0, "e1"))
		})
		boom := errors.New("boom")
		write := func(ctx context.Context, tx bridge.Tx) error {
			c := company("c1")
			c.Name = "changed"
			th := threadOf("c1", "t1", "wm-1", t0.Add(time.Hour), "e2")
			th.Status = bridge.StatusClosed
			steps := []error{
				tx.SaveCompany(ctx, c),
				tx.SaveCompany(ctx, company("c2")),
				tx.SaveEmployee(ctx, employeeOf("c1", "e1", "E")),
				tx.SaveConsumer(ctx, bridge.Consumer{Company: "c1", ID: "wm-1"}),
				tx.SaveThread(ctx, th),
				tx.SaveThread(ctx, threadOf("c1", "t2", "wm-2", t0, "e1")),
				tx.InsertMessage(ctx, bridge.MessageRecord{ID: "t1-1", Thread: "t1", Seq: 1, From: bridge.FromConsumer, Status: bridge.StatusReceived, At: t0}),
				func() error { _, err := tx.MarkInbound(ctx, "c1", "wx-1"); return err }(),
				tx.SaveCursor(ctx, "c1", "wk", "cur"),
				tx.SaveCard(ctx, bridge.CardRecord{Employee: "e1", Thread: "t1", ActivityID: "a1", Messages: []bridge.MessageID{"t1-1"}, UpdatedAt: t0}),
				tx.Enqueue(ctx, bridge.Job{Lane: "send:t1", Kind: "send"}),
				tx.SetTimer(ctx, bridge.Job{Lane: "timer:t1:24h", Kind: "timer"}),
			}
			for i, err := range steps {
				if err != nil {
					t.Errorf("step %d: %v", i, err)
				}
			}
			return boom
		}
		err := s.Tx(t.Context(), func(tx bridge.Tx) error { return write(t.Context(), tx) })
		mustErr(t, err, boom)
		func() {
			defer func() {
				if p := recover(); p != "panic in tx" {
					t.Errorf("recovered %v, want the transaction's panic", p)
				}
			}()
			_ = s.Tx(t.Context(), func(tx bridge.Tx) error { _ = write(t.Context(), tx); panic("panic in tx") })
		}()
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			c, err := tx.Company(ctx, "c1")
			if err != nil || c.Name != company("c1").Name {
				t.Errorf("company after rollback = %q, %v", c.Name, err)
			}
			_, err = tx.Company(ctx, "c2")
			mustErr(t, err, bridge.ErrUnknownCompany)
			_, err = tx.Employee(ctx, "e1")
			mustErr(t, err, bridge.ErrUnknownEmployee)
			_, err = tx.Consumer(ctx, "c1", "wm-1")
			mustErr(t, err, bridge.ErrNotFound)
			th, err := tx.LoadThread(ctx, "t1")
			if err != nil || th.Status != bridge.StatusActive || !reflect.DeepEqual(th.Participants, []bridge.EmployeeID{"e1"}) {
				t.Errorf("thread after rollback = %+v, %v", th, err)
			}
			if ts, _ := tx.ThreadsOf(ctx, "e2"); len(ts) != 0 {
				t.Errorf("participant index after rollback has e2 in %v", threadIDs(ts))
			}
			_, err = tx.LoadThread(ctx, "t2")
			mustErr(t, err, bridge.ErrUnknownThread)
			_, err = tx.Message(ctx, "t1-1")
			mustErr(t, err, bridge.ErrUnknownMessage)
			if fresh, err := tx.MarkInbound(ctx, "c1", "wx-1"); !fresh || err != nil {
				t.Errorf("inbound mark survived rollback: %v, %v", fresh, err)
			}
			_, err = tx.Cursor(ctx, "c1", "wk")
			mustErr(t, err, bridge.ErrNotFound)
			if _, ok, _ := tx.CardForMessage(ctx, "e1", "t1-1"); ok {
				t.Error("card survived rollback")
			}
			return nil
		})
		if js, err := s.PendingJobs(t.Context(), ""); err != nil || len(js) != 0 {
			t.Errorf("jobs after rollback = %v, %v", js, err)
		}
	})

	t.Run("tokens and media", func(t *testing.T) {
		s := f(t)()
		ctx := t.Context()
		_, _, err := s.Token(ctx, "kf:corp")
		mustErr(t, err, bridge.ErrNotFound)
		exp := t0.Add(2 * time.Hour)
		if err := s.PutToken(ctx, "kf:corp", "tok-1", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.PutToken(ctx, "kf:corp", "tok-2", exp.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		tok, gotExp, err := s.Token(ctx, "kf:corp")
		if err != nil || tok != "tok-2" || !gotExp.Equal(exp.Add(time.Hour)) {
			t.Errorf("Token = %q, %v, %v", tok, gotExp, err)
		}
		data := []byte("\x89PNG\r\n\x1a\n\x00\x01binary")
		ref, err := s.PutMedia(ctx, "c1", "image/png", "a.png", data)
		if err != nil {
			t.Fatal(err)
		}
		ref2, err := s.PutMedia(ctx, "c1", "application/octet-stream", "empty.bin", nil)
		if err != nil || ref2 == ref {
			t.Fatalf("second media ref %q, %v", ref2, err)
		}
		ct, name, got, err := s.Media(ctx, ref)
		if err != nil || ct != "image/png" || name != "a.png" || !bytes.Equal(got, data) {
			t.Errorf("Media = %q %q %q %v", ct, name, got, err)
		}
		if _, _, got, err := s.Media(ctx, ref2); err != nil || len(got) != 0 {
			t.Errorf("empty media = %q, %v", got, err)
		}
		_, _, _, err = s.Media(ctx, "nope")
		mustErr(t, err, bridge.ErrNotFound)
	})
}

// norm makes the policy state's times comparable across JSON round trips.
func norm(tr bridge.ThreadRecord) bridge.ThreadRecord {
	tr.LastConsumerAt = tr.LastConsumerAt.UTC()
	tr.CreatedAt, tr.UpdatedAt = tr.CreatedAt.UTC(), tr.UpdatedAt.UTC()
	return tr
}

func ids(es []bridge.Employee) []bridge.EmployeeID {
	var out []bridge.EmployeeID
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func threadIDs(ts []bridge.ThreadRecord) []bridge.ThreadID {
	var out []bridge.ThreadID
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func seqs(ms []bridge.MessageRecord) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}
