package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/jobs"
)

// jobQueue is the operators' side of the job queue that `admin jobs` uses:
// *storage.DB has it (and so does memstore, for tests).
type jobQueue interface {
	Jobs(ctx context.Context, f storage.JobFilter) ([]bridge.Job, error)
	RetryJob(ctx context.Context, id int64) error
	DiscardJob(ctx context.Context, id int64) error
}

var _ jobQueue = (*storage.DB)(nil)

// jobsCmd lets an operator see the job queue and act on dead jobs, the jobs that
// ended without success (a permanent error, or their kind's attempt or age limit
// reached) and wait for someone to decide: retry them once the cause is fixed, or
// discard them. It works while servers run on the same database.
func jobsCmd() *cobra.Command {
	withDB := func(run func(ctx context.Context, db jobQueue, w io.Writer, args []string) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, args []string) error {
			db, err := openMigrated(c.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			return run(c.Context(), db, c.OutOrStdout(), args)
		}
	}
	var f storage.JobFilter
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the job queue, newest first (--dead: only the dead jobs); retry or discard a dead job",
		Args:  cobra.NoArgs,
		RunE: withDB(func(ctx context.Context, db jobQueue, w io.Writer, _ []string) error {
			return listJobs(ctx, db, w, f, time.Now())
		}),
	}
	cmd.Flags().BoolVar(&f.Dead, "dead", false, "list only dead jobs (ended without success, kept for an operator)")
	cmd.Flags().IntVar(&f.Limit, "limit", jobs.DefaultListLimit, "list at most this many jobs")
	cmd.AddCommand(&cobra.Command{
		Use:   "retry ID",
		Short: "Run a dead job again, with a fresh count of attempts",
		Args:  cobra.ExactArgs(1),
		RunE: withDB(func(ctx context.Context, db jobQueue, w io.Writer, args []string) error {
			return retryJob(ctx, db, w, args[0])
		}),
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "discard ID",
		Short: "Delete a dead job for good",
		Args:  cobra.ExactArgs(1),
		RunE: withDB(func(ctx context.Context, db jobQueue, w io.Writer, args []string) error {
			return discardJob(ctx, db, w, args[0])
		}),
	})
	return cmd
}

// lastErrorWidth is how much of a last error the table shows: the first line,
// cut to fit a terminal; the tab's admin page shows it whole.
const lastErrorWidth = 160

// listJobs writes the jobs f selects as a table: id, kind, lane, attempts, age
// (since enqueued, or since an operator's retry), dead, last error.
func listJobs(ctx context.Context, db jobQueue, w io.Writer, f storage.JobFilter, now time.Time) error {
	list, err := db.Jobs(ctx, f)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		if f.Dead {
			_, err := fmt.Fprintln(w, "no dead jobs")
			return err
		}
		_, err := fmt.Fprintln(w, "no jobs")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tLANE\tATTEMPTS\tAGE\tDEAD\tLAST ERROR")
	for _, j := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", j.ID, j.Kind, j.Lane, j.Attempts, formatAge(now.Sub(j.Created)),
			map[bool]string{true: "yes", false: "no"}[j.Dead], tableError(j.LastError))
	}
	return tw.Flush()
}

// tableError fits a last error into one table cell. It is redacted once more:
// rows written before the store redacted errors may still carry a credential.
func tableError(s string) string {
	s = jobs.RedactError(s)
	s = strings.Join(strings.Fields(s), " ") // one line, no tabs to break the table
	if r := []rune(s); len(r) > lastErrorWidth {
		s = string(r[:lastErrorWidth-1]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

// formatAge rounds d for a person: 45s, 12m, 3h5m, 2d4h.
func formatAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// errBadJobID: a job ID is the number `admin jobs` shows.
var errBadJobID = errors.New("job ID must be the number `multiline admin jobs` shows")

func parseJobID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w, not %q", errBadJobID, s)
	}
	return id, nil
}

// retryJob revives a dead job; the runners pick it up at their next poll.
func retryJob(ctx context.Context, db jobQueue, w io.Writer, arg string) error {
	id, err := parseJobID(arg)
	if err != nil {
		return err
	}
	if err := db.RetryJob(ctx, id); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "job %d will run again now\n", id)
	return err
}

// discardJob deletes a dead job.
func discardJob(ctx context.Context, db jobQueue, w io.Writer, arg string) error {
	id, err := parseJobID(arg)
	if err != nil {
		return err
	}
	if err := db.DiscardJob(ctx, id); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "job %d discarded\n", id)
	return err
}
