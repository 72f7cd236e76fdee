package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// auditLine is one audit record as `multiline audit --format jsonl` writes it.
type auditLine struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	Thread  bridge.ThreadID `json:"thread"`
	Event   string          `json:"event"`
	Detail  json.RawMessage `json:"detail"`
	Actions json.RawMessage `json:"actions"`
}

// auditCmd prints the audit log of policy decisions, for compliance officers
// and for the firm's own tools (CSV for spreadsheets, JSON Lines for
// programs). It works on MULTILINE_DATABASE_URL while servers run on it.
func auditCmd() *cobra.Command {
	var since, until, thread, employee, format string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Print the audit log of policy decisions (--since/--until are UTC dates, inclusive), as CSV or JSON Lines",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			q := bridge.AuditQuery{Thread: bridge.ThreadID(thread), Employee: bridge.EmployeeID(employee)}
			var err error
			if q.Since, err = auditDay("since", since); err != nil {
				return err
			}
			if q.Until, err = auditDay("until", until); err != nil {
				return err
			}
			if !q.Until.IsZero() {
				q.Until = q.Until.AddDate(0, 0, 1)
			}
			if format != "csv" && format != "jsonl" {
				return fmt.Errorf("--format must be csv or jsonl, got %q", format)
			}
			db, err := openMigrated(c.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			entries, err := db.AuditLog(c.Context(), q)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if format == "jsonl" {
				enc := json.NewEncoder(out)
				for _, e := range entries {
					if err := enc.Encode(auditLine{e.ID, e.At, e.Thread, e.Event, e.Detail, e.Actions}); err != nil {
						return fmt.Errorf("write the audit log: %w", err)
					}
				}
				return nil
			}
			w := csv.NewWriter(out)
			_ = w.Write([]string{"id", "at", "thread", "event", "detail", "actions"})
			for _, e := range entries {
				_ = w.Write([]string{strconv.FormatInt(e.ID, 10), e.At.Format(time.RFC3339Nano), string(e.Thread), e.Event,
					string(e.Detail), string(e.Actions)})
			}
			w.Flush()
			if err := w.Error(); err != nil {
				return fmt.Errorf("write the audit log: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "first day, YYYY-MM-DD (UTC)")
	cmd.Flags().StringVar(&until, "until", "", "last day, YYYY-MM-DD (UTC, inclusive)")
	cmd.Flags().StringVar(&thread, "thread", "", "one thread's records")
	cmd.Flags().StringVar(&employee, "employee", "", "the records of an employee's threads")
	cmd.Flags().StringVar(&format, "format", "csv", "csv or jsonl")
	return cmd
}

func auditDay(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(archive.DayLayout, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: %w", flag, err)
	}
	return d, nil
}
