package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/manifest"
)

func manifestCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "manifest", Short: "The Teams app package"}
	cmd.AddCommand(&cobra.Command{
		Use:                "build [flags]",
		Short:              "Write appPackage.zip (run with --help for the flags)",
		DisableFlagParsing: true, // manifest.RunBuild parses its own flags
		RunE: func(c *cobra.Command, args []string) error {
			return manifest.RunBuild(args, os.Getenv, c.OutOrStdout())
		},
	})
	return cmd
}

// adminCmd gives an operator the admin tasks without the tab: list and enable
// employees, show and change the company policy.
func adminCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Administer employees and the company policy"}
	withService := func(run func(c *cobra.Command, svc *bridge.Service, args []string) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, args []string) error {
			db, err := openMigrated(c.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			svc := bridge.NewService(db, bridge.Options{Company: "default"})
			svc.AttachRetention(db)
			if err := svc.EnsureCompany(c.Context(), "Company", os.Getenv("MicrosoftAppTenantId"), bridge.English); err != nil {
				return err
			}
			// The archive names who made an admin change: here, the operator's
			// account on the machine that ran the command.
			c.SetContext(bridge.WithAdmin(c.Context(), cliAdmin()))
			return run(c, svc, args)
		}
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "employees",
		Short: "List employees",
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, _ []string) error {
			list, err := svc.Employees(c.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tENABLED\tINSTALLED\tREACHABLE")
			for _, e := range list {
				reach := "yes"
				if e.Blocked {
					reach = "no: " + e.BlockedReason
				}
				fmt.Fprintf(w, "%s\t%s\t%t\t%t\t%s\n", e.ID, e.Name, e.Enabled, e.Conversation.ConversationID != "", reach)
			}
			return w.Flush()
		}),
	})
	for _, enable := range []bool{true, false} {
		name := map[bool]string{true: "enable", false: "disable"}[enable]
		cmd.AddCommand(&cobra.Command{
			Use:   name + " EMPLOYEE_ID",
			Short: name + " WeChat for an employee",
			Args:  cobra.ExactArgs(1),
			RunE: withService(func(c *cobra.Command, svc *bridge.Service, args []string) error {
				return svc.SetEmployeeEnabled(c.Context(), bridge.EmployeeID(args[0]), enable)
			}),
		})
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "policy [KEY=VALUE…]",
		Short: "Show the policy, or set it (sends_per_window, window, reminder_after, employee_limit, queue_limit, reserve, max_participants, consumer_language=en|zh-CN|auto, language=en|zh-CN, retention_days: 0 keeps records for ever)",
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, args []string) error {
			co, err := svc.CompanySettings(c.Context())
			if err != nil {
				return err
			}
			p, lang := co.Policy, co.Language
			for _, kv := range args {
				if v, ok := strings.CutPrefix(kv, "language="); ok {
					lang = bridge.Language(v) // the company's default language, not a policy number
					continue
				}
				if err := setPolicyField(&p, kv); err != nil {
					return err
				}
			}
			if len(args) > 0 {
				if err := svc.SetPolicy(c.Context(), p, co.Overrides); err != nil {
					return err
				}
				if lang != co.Language {
					if err := svc.SetLanguage(c.Context(), lang); err != nil {
						return err
					}
				}
			}
			if p.ConsumerLanguage == "" {
				p.ConsumerLanguage = bridge.ConsumerLanguageAuto
			}
			if lang == "" {
				lang = bridge.English
			}
			fmt.Fprintf(c.OutOrStdout(), "sends_per_window=%d window=%s reminder_after=%s employee_limit=%d queue_limit=%d reserve=%d max_participants=%d consumer_language=%s language=%s retention_days=%d\n",
				p.SendsPerWindow, p.Window, p.ReminderAfter, p.EmployeeLimit, p.QueueLimit, p.Reserve, p.MaxParticipants, p.ConsumerLanguage, lang, p.RetentionDays)
			return nil
		}),
	})
	cmd.AddCommand(jobsCmd())
	cmd.AddCommand(lexiconCmd(withService))
	cmd.AddCommand(holdCmd(withService), retentionCmd(withService))
	return cmd
}

// cliAdmin is the admin the archive records for a change made with `multiline admin`.
func cliAdmin() archive.Party {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return archive.Party{Role: archive.RoleAdmin, ID: "cli:" + name, Name: name + " (multiline admin command)"}
}

var errBadPolicyArg = errors.New("expected KEY=VALUE")

func setPolicyField(p *bridge.Policy, kv string) error {
	var key, val string
	for i := range len(kv) {
		if kv[i] == '=' {
			key, val = kv[:i], kv[i+1:]
			break
		}
	}
	if key == "" {
		return fmt.Errorf("%w: %q", errBadPolicyArg, kv)
	}
	if key == "consumer_language" {
		p.ConsumerLanguage = val // Policy.Validate checks it
		return nil
	}
	dur := map[string]*time.Duration{"window": &p.Window, "reminder_after": &p.ReminderAfter}
	num := map[string]*int{"sends_per_window": &p.SendsPerWindow, "employee_limit": &p.EmployeeLimit, "queue_limit": &p.QueueLimit, "reserve": &p.Reserve, "max_participants": &p.MaxParticipants, "retention_days": &p.RetentionDays}
	if d, ok := dur[key]; ok {
		v, err := time.ParseDuration(val)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		*d = v
		return nil
	}
	if n, ok := num[key]; ok {
		v, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		*n = v
		return nil
	}
	return fmt.Errorf("unknown policy key %q", key)
}

// configCmd shows every setting, its default and whether it is set, never a
// secret's value: the first thing to run when start-up refuses a setting.
func configCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Show the settings the service reads from the environment",
		RunE: func(c *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SETTING\tVALUE\tDEFAULT\tREQUIRED\tABOUT")
			for _, s := range settings {
				v := os.Getenv(s.Name)
				switch {
				case v == "":
					v = "(unset)"
				case s.Secret:
					v = "(set, hidden)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.Name, v, s.Default, s.Required, s.About)
			}
			return w.Flush()
		},
	}
}
