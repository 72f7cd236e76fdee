package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/journal"
	"github.com/multiline/multiline/storage"
)

// archiveCmd gives compliance officers and operators the record: verify that
// nothing was changed, removed or reordered, export it as archives ingest it,
// and anchor every thread's head now. Each works on MULTILINE_DATABASE_URL while
// servers run on it.
func archiveCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "archive", Short: "Verify and export the compliance archive"}
	cmd.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Walk every chain and anchor; print the first problem of each chain and exit non-zero on any",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			db, err := openMigrated(c.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := archive.Verify(c.Context(), db)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			for _, p := range rep.Problems {
				fmt.Fprintln(w, "PROBLEM", p.Error())
			}
			fmt.Fprintf(w, "%d chains, %d events (%d purged), %d anchors: %s\n",
				rep.Chains, rep.Events, rep.Purged, rep.Anchors, map[bool]string{true: "ok", false: "FAILED"}[rep.OK()])
			return rep.Err()
		},
	})

	var format, day, from, to, thread, out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Export the days from --from to --to (or one --day, or one --thread), UTC, as EML (one file per conversation per day) or JSON Lines (every event)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			f, err := archive.ParseFormat(format)
			if err != nil {
				return err
			}
			o, err := exportOptions(day, from, to, thread)
			if err != nil {
				return err
			}
			db, err := openMigrated(c.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			if err := o.Resolve(c.Context(), db); err != nil {
				return err
			}
			w := c.OutOrStdout()
			if f == archive.FormatEML {
				files, err := archive.ExportEML(c.Context(), db, db, out, o)
				for _, f := range files {
					fmt.Fprintln(w, f)
				}
				return err
			}
			if err := os.MkdirAll(out, 0o750); err != nil {
				return err
			}
			path := filepath.Join(out, o.FileName(f))
			file, err := os.Create(path)
			if err != nil {
				return err
			}
			n, err := archive.ExportJSONL(c.Context(), db, file, o)
			if cerr := file.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s\n%d events\n", path, n)
			return nil
		},
	}
	export.Flags().StringVar(&format, "format", "eml", "eml or jsonl")
	export.Flags().StringVar(&day, "day", "", "one UTC day, YYYY-MM-DD (instead of --from and --to)")
	export.Flags().StringVar(&from, "from", "", "first UTC day, YYYY-MM-DD")
	export.Flags().StringVar(&to, "to", "", "last UTC day, YYYY-MM-DD (included; default --from)")
	export.Flags().StringVar(&thread, "thread", "", "one thread only: all its days, or those of --from/--to or --day")
	export.Flags().StringVar(&out, "out", ".", "folder to write into")
	cmd.AddCommand(export)

	var journalDay string
	journalCmd := &cobra.Command{
		Use:   "journal",
		Short: "Send one UTC day's conversations to MULTILINE_ARCHIVE_JOURNAL_TO now (a re-send replaces: same Message-IDs)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			day, err := time.Parse(archive.DayLayout, journalDay)
			if err != nil {
				return fmt.Errorf("--day: want YYYY-MM-DD: %w", err)
			}
			smtpURL, to := strings.TrimSpace(os.Getenv("MULTILINE_ARCHIVE_SMTP_URL")), strings.TrimSpace(os.Getenv("MULTILINE_ARCHIVE_JOURNAL_TO"))
			if smtpURL == "" || to == "" {
				return errors.New("set MULTILINE_ARCHIVE_SMTP_URL and MULTILINE_ARCHIVE_JOURNAL_TO to journal")
			}
			db, err := openMigrated(c.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			j, err := newJournal(db, smtpURL, to, os.Getenv("MULTILINE_PUBLIC_URL"), os.Getenv("WECHAT_MODE"), os.Getenv("WECOM_CORP_ID"))
			if err != nil {
				return err
			}
			sent, err := j.SendDay(c.Context(), "default", day)
			for _, id := range sent {
				fmt.Fprintln(c.OutOrStdout(), "sent <"+id+">")
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%d conversations of %s journaled\n", len(sent), day.Format(archive.DayLayout))
			return nil
		},
	}
	journalCmd.Flags().StringVar(&journalDay, "day", "", "the UTC day, YYYY-MM-DD")
	cmd.AddCommand(journalCmd)

	cmd.AddCommand(&cobra.Command{
		Use:   "anchor",
		Short: "Record every thread's head on the company chain now (the daily job does it at midnight UTC)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			db, err := openMigrated(c.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			svc := bridge.NewService(db, bridge.Options{Company: "default"})
			if err := svc.Anchor(c.Context()); err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), "anchored")
			return nil
		},
	})
	return cmd
}

// exportOptions reads the days (or the thread) and the deployment's WeChat
// settings (the same variables serve reads) for the EML headers.
func exportOptions(day, from, to, thread string) (archive.ExportOptions, error) {
	o := archive.ForDeployment(os.Getenv("WECHAT_MODE"), os.Getenv("WECOM_CORP_ID"))
	if thread != "" {
		o.Company, o.Thread = "default", thread
	}
	if day != "" {
		if from != "" || to != "" {
			return o, fmt.Errorf("give --day or --from/--to, not both")
		}
		from, to = day, day
	}
	if from == "" && to == "" && thread != "" {
		return o, nil // the thread's days (Resolve)
	}
	var err error
	if o.From, o.To, err = archive.ParseDays(from, to); err != nil {
		return o, fmt.Errorf("--from/--to/--day: %w", err)
	}
	return o, nil
}

// newJournal is the journaling of the deployment: its archive through the SMTP
// server of smtpURL to the mailbox to, with the EML headers' channel and corp.
func newJournal(db *storage.DB, smtpURL, to, publicURL, mode, corp string) (*journal.Journal, error) {
	host := ""
	if u, err := url.Parse(publicURL); err == nil {
		host = u.Hostname()
	}
	m, err := journal.NewMailer(smtpURL, to, journal.Sender(host))
	if err != nil {
		return nil, err
	}
	return journal.New(db, m, archive.ForDeployment(mode, corp)), nil
}
