package archive

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// jsonlLine is one event as a JSON Lines export writes it. It carries every
// field, hashes included, so an export can be verified on its own (ReadJSONL
// into a Memory, then Verify) and nothing is lost.
type jsonlLine struct {
	Company  string           `json:"company"`
	Thread   string           `json:"thread"`
	Seq      int64            `json:"seq"`
	Time     string           `json:"time"`
	Kind     Kind             `json:"kind"`
	Body     *json.RawMessage `json:"body"`
	BodyHash Hash             `json:"body_sha256"`
	Prev     Hash             `json:"prev"`
	Hash     Hash             `json:"hash"`
}

// jsonlTime writes times to the microsecond in UTC, always with six digits, so
// they sort as text and read back exactly.
const jsonlTime = "2006-01-02T15:04:05.000000Z07:00"

// JSONLWriter writes events as JSON Lines: one JSON object per line, fields in a
// fixed order, body as stored (canonical JSON) or null once purged.
type JSONLWriter struct {
	w *bufio.Writer
}

// NewJSONLWriter writes to w; call Flush at the end.
func NewJSONLWriter(w io.Writer) *JSONLWriter { return &JSONLWriter{w: bufio.NewWriter(w)} }

// Write adds one event.
func (j *JSONLWriter) Write(e Event) error {
	b, err := e.MarshalJSON()
	if err != nil {
		return err
	}
	if _, err := j.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("archive: jsonl: %w", err)
	}
	return nil
}

// MarshalJSON writes the export form of an event (see JSONLWriter), so an event
// sent by an API reads back exactly, purged body (null) included.
func (e Event) MarshalJSON() ([]byte, error) {
	line := jsonlLine{
		Company: e.Company, Thread: e.Thread, Seq: e.Seq,
		Time: e.Time.UTC().Format(jsonlTime), Kind: e.Kind,
		BodyHash: e.BodyHash, Prev: e.Prev, Hash: e.Hash,
	}
	if e.Body != nil {
		b := json.RawMessage(e.Body)
		line.Body = &b
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(line); err != nil {
		return nil, fmt.Errorf("archive: event %s #%d: %w", e.Chain(), e.Seq, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads what MarshalJSON wrote; a null body is a purged one.
func (e *Event) UnmarshalJSON(b []byte) error {
	ev, err := parseJSONLLine(b)
	if err != nil {
		return fmt.Errorf("archive: event: %w", err)
	}
	*e = ev
	return nil
}

// Flush writes out what is buffered.
func (j *JSONLWriter) Flush() error {
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("archive: jsonl: %w", err)
	}
	return nil
}

// WriteJSONL writes events as JSON Lines to w.
func WriteJSONL(w io.Writer, events []Event) error {
	j := NewJSONLWriter(w)
	for _, e := range events {
		if err := j.Write(e); err != nil {
			return err
		}
	}
	return j.Flush()
}

// ReadJSONL reads a JSON Lines export back, calling fn with each event in turn.
// Blank lines are skipped; anything else that is not an event is an error naming
// the line.
func ReadJSONL(r io.Reader, fn func(Event) error) error {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		raw, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(raw)) > 0 {
			e, perr := parseJSONLLine(raw)
			if perr != nil {
				return fmt.Errorf("archive: jsonl line %d: %w", n, perr)
			}
			if ferr := fn(e); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive: jsonl line %d: %w", n, err)
		}
	}
}

func parseJSONLLine(raw []byte) (Event, error) {
	var line jsonlLine
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&line); err != nil {
		return Event{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, line.Time)
	if err != nil {
		return Event{}, fmt.Errorf("time: %w", err)
	}
	e := Event{
		Company: line.Company, Thread: line.Thread, Seq: line.Seq, Time: t.UTC(),
		Kind: line.Kind, BodyHash: line.BodyHash, Prev: line.Prev, Hash: line.Hash,
	}
	if line.Body != nil {
		e.Body = bytes.Clone(*line.Body)
	}
	return e, nil
}
