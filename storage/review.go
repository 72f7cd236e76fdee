package storage

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// This file is review's side in the database (bridge.Reviews): searching the
// archive's threads, reading one whole, and the queue of lexicon flags.

var _ bridge.Reviews = (*DB)(nil)

// reviewLimit bounds a search's results: a reviewer narrows a search rather
// than scroll thousands of threads.
const reviewLimit = 200

// ReviewThreads implements bridge.Reviews.
func (db *DB) ReviewThreads(ctx context.Context, company bridge.CompanyID, q bridge.ReviewQuery) ([]bridge.ReviewThread, error) {
	args := []any{string(company), archive.CompanyThread}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := []string{"e.company = $1", "e.thread <> $2"}
	if !q.From.IsZero() {
		where = append(where, "e.at >= "+arg(micros(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "e.at < "+arg(micros(q.To)))
	}
	if q.Text != "" {
		where = append(where, `e.thread IN (SELECT thread FROM archive_events WHERE company = $1 AND kind IN ('message.in', 'message.out')
  AND LOWER(body) LIKE `+arg(likePattern(strings.ToLower(q.Text)))+` ESCAPE '\')`)
	}
	if q.Consumer != "" {
		where = append(where, `e.thread IN (SELECT t.id FROM threads t LEFT JOIN consumers c ON c.company = t.company AND c.id = t.consumer
  WHERE t.company = $1 AND (t.consumer = `+arg(q.Consumer)+` OR LOWER(c.name) LIKE `+arg(likePattern(strings.ToLower(q.Consumer)))+` ESCAPE '\'))`)
	}
	if q.Employee != "" {
		e := arg(string(q.Employee))
		where = append(where, `e.thread IN (SELECT thread FROM participants WHERE employee = `+e+`
  UNION SELECT thread FROM messages WHERE author = `+e+`)`)
	}
	rows, err := db.reads().QueryContext(ctx, `SELECT e.thread, MIN(e.at), MAX(e.at), COUNT(*) FROM archive_events e
WHERE `+strings.Join(where, " AND ")+` GROUP BY e.thread ORDER BY MAX(e.at) DESC, e.thread LIMIT `+fmt.Sprint(reviewLimit), args...)
	if err != nil {
		return nil, fmt.Errorf("search threads for review: %w", err)
	}
	defer rows.Close()
	var out []bridge.ReviewThread
	for rows.Next() {
		var r bridge.ReviewThread
		var first, last int64
		if err := rows.Scan(&r.ID, &first, &last, &r.Events); err != nil {
			return nil, fmt.Errorf("search threads for review: %w", err)
		}
		r.First, r.Last = fromMicros(first), fromMicros(last)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search threads for review: %w", err)
	}
	rows.Close()
	for i := range out {
		if err := db.describeForReview(ctx, company, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// describeForReview adds the thread's consumer and participants' names.
func (db *DB) describeForReview(ctx context.Context, company bridge.CompanyID, r *bridge.ReviewThread) error {
	conv, err := db.ArchiveConversation(ctx, string(company), string(r.ID))
	if err != nil {
		return err
	}
	r.Consumer, r.ConsumerName = bridge.ConsumerID(conv.Consumer.ID), conv.Consumer.Name
	rows, err := db.reads().QueryContext(ctx, `SELECT e.name FROM participants p JOIN employees e ON e.id = p.employee
WHERE p.thread = $1 ORDER BY p.position`, string(r.ID))
	if err != nil {
		return fmt.Errorf("participants of %s: %w", r.ID, err)
	}
	defer rows.Close()
	r.Employees = []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return fmt.Errorf("participants of %s: %w", r.ID, err)
		}
		r.Employees = append(r.Employees, n)
	}
	return rows.Err()
}

// ThreadEvents implements bridge.Reviews.
func (db *DB) ThreadEvents(ctx context.Context, company bridge.CompanyID, t bridge.ThreadID) ([]archive.Event, error) {
	var out []archive.Event
	err := db.Events(ctx, archive.ChainID{Company: string(company), Thread: string(t)}, func(e archive.Event) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// Flagged implements bridge.Reviews: lexicon flags minus the (thread, seq)
// pairs a review event names.
func (db *DB) Flagged(ctx context.Context, company bridge.CompanyID) ([]bridge.FlaggedItem, error) {
	rows, err := db.reads().QueryContext(ctx, `SELECT `+archiveCols+` FROM archive_events
WHERE company = $1 AND kind IN ($2, $3) ORDER BY at, thread, seq`, string(company), string(archive.KindLexicon), string(archive.KindReview))
	if err != nil {
		return nil, fmt.Errorf("read the flagged queue: %w", err)
	}
	type key struct {
		thread string
		seq    int64
	}
	reviewed := map[key]bool{}
	var flags []bridge.FlaggedItem
	err = eachEvent(rows, func(e archive.Event) error {
		switch e.Kind {
		case archive.KindReview:
			var b archive.ReviewBody
			if e.Decode(&b) == nil {
				reviewed[key{e.Thread, b.Seq}] = true
			}
		case archive.KindLexicon:
			var b archive.LexiconBody
			// A redaction that a flag rule matched too is flagged as well (Flags).
			if e.Decode(&b) == nil && (b.Action == "flag" || len(b.Flags) > 0) {
				flags = append(flags, bridge.FlaggedItem{Thread: bridge.ThreadID(e.Thread), Seq: e.Seq, At: e.Time, Decision: b})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []bridge.FlaggedItem{}
	names := map[bridge.ThreadID]string{}
	for _, f := range flags {
		if reviewed[key{string(f.Thread), f.Seq}] {
			continue
		}
		n, ok := names[f.Thread]
		if !ok {
			conv, err := db.ArchiveConversation(ctx, string(company), string(f.Thread))
			if err != nil {
				return nil, err
			}
			n = conv.Consumer.Name
			names[f.Thread] = n
		}
		f.ConsumerName = n
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}
