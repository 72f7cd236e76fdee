package teamsapp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/multiline/multiline/archive"
)

// FuzzReviewMark: any review a compliance reviewer posts (thread and event
// in the path, the comment in the body) is answered 204 or a 4xx JSON error.
// A refusal leaves the flagged queue and the archive as they were; an
// accepted review takes exactly that flag off the queue and records one
// review event with the comment. The world (on SQLite, as in production) is
// shared by the inputs: after an accepted review a new flag is raised, and
// "THREAD" and "FLAG" in an input stand for the thread and the open flag.
func FuzzReviewMark(f *testing.F) {
	w := newReviewWorld(f)
	for _, s := range []struct{ thread, seq, body string }{
		{"THREAD", "FLAG", `{"comment":"Spoke to Ann; misleading, coached."}`},
		{"THREAD", "FLAG", `{"comment":""}`},
		{"THREAD", "FLAG", `{"comment":"` + strings.Repeat("很", 20000) + `"}`},
		{"THREAD", "FLAG", `{"comment":7}`},
		{"THREAD", "FLAG", ``},
		{"THREAD", "1", `{"comment":"not a flag"}`},
		{"THREAD", "0", `{"comment":"x"}`},
		{"THREAD", "-1", `{"comment":"x"}`},
		{"THREAD", "99999999999999999999", `{"comment":"x"}`},
		{"nosuchthread", "FLAG", `{"comment":"x"}`},
		{"../THREAD", "FLAG", `{"comment":"x"}`},
	} {
		f.Add(s.thread, s.seq, uint8(0), []byte(s.body))
	}
	h := w.srv.Config.Handler
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, thread, seq string, ct uint8, body []byte) {
		thread = strings.ReplaceAll(thread, "THREAD", string(w.thread))
		seq = strings.ReplaceAll(seq, "FLAG", itoa(w.flag))
		queue, err := w.svc.Flagged(ctx)
		if err != nil {
			t.Fatal(err)
		}
		events, err := w.db.ThreadEvents(ctx, "default", w.thread)
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/review/threads/" + url.PathEscape(thread) + "/events/" + url.PathEscape(seq) + "/review"
		rec := serveRaw(h, http.MethodPost, path, "Bearer rita", contentTypes[int(ct)%len(contentTypes)], body)
		queueAfter, err1 := w.svc.Flagged(ctx)
		eventsAfter, err2 := w.db.ThreadEvents(ctx, "default", w.thread)
		if err := firstErr(err1, err2); err != nil {
			t.Fatal(err)
		}
		switch {
		case rec.Code >= 500 || rec.Code < 200 || rec.Code >= 300 && rec.Code < 400:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		case rec.Code >= 400:
			var e apiError
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("status %d without a JSON error: %q", rec.Code, rec.Body)
			}
			if !reflect.DeepEqual(queue, queueAfter) || len(events) != len(eventsAfter) {
				t.Fatalf("status %d (%s), yet the queue went from %d to %d items and the record from %d to %d events",
					rec.Code, e.Error, len(queue), len(queueAfter), len(events), len(eventsAfter))
			}
			return
		}
		var in reviewMarkJSON
		_ = json.Unmarshal(body, &in)
		if rec.Code != http.StatusNoContent || thread != string(w.thread) || seq != itoa(w.flag) || len(queueAfter) != len(queue)-1 || len(eventsAfter) != len(events)+1 {
			t.Fatalf("status %d for %s %s: queue %d → %d, record %d → %d", rec.Code, thread, seq, len(queue), len(queueAfter), len(events), len(eventsAfter))
		}
		var rb archive.ReviewBody
		last := eventsAfter[len(eventsAfter)-1]
		if err := last.Decode(&rb); err != nil || last.Kind != archive.KindReview || rb.Seq != w.flag || rb.Comment != in.Comment {
			t.Fatalf("review recorded as %s %+v (%v), comment sent %q", last.Kind, rb, err, in.Comment)
		}
		w.flag = addFlag(t, w.db, w.clock.Now(), w.thread)
	})
}
