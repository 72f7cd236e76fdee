package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/multiline/multiline/bridge"
)

// serviceRun is adminCmd's wrapper: a command body given the company's service.
type serviceRun func(run func(c *cobra.Command, svc *bridge.Service, args []string) error) func(*cobra.Command, []string) error

var errOneHoldTarget = errors.New("name exactly one of --consumer, --thread or --employee")

// holdCmd manages legal holds, which exempt a consumer's, a thread's or an
// employee's records from retention until lifted. "set" and "lift" are the
// names of the record's events; "add" and "remove" are the same commands.
func holdCmd(withService serviceRun) *cobra.Command {
	cmd := &cobra.Command{Use: "hold", Short: "Legal holds: records under a hold are never purged by retention"}
	var consumer, thread, employee, reason string
	set := &cobra.Command{
		Use:     "set --consumer|--thread|--employee ID --reason TEXT",
		Aliases: []string{"add"},
		Short:   "Put a legal hold on a consumer, a thread or an employee (an archive event)",
		Args:    cobra.NoArgs,
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, _ []string) error {
			scope, target, err := holdTarget(consumer, thread, employee)
			if err != nil {
				return err
			}
			h, err := svc.SetHold(c.Context(), scope, target, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: hold on %s %s\n", h.ID, h.Scope, h.Target)
			return nil
		}),
	}
	set.Flags().StringVar(&consumer, "consumer", "", "the consumer's WeChat id")
	set.Flags().StringVar(&thread, "thread", "", "the thread id")
	set.Flags().StringVar(&employee, "employee", "", "the employee id")
	set.Flags().StringVar(&reason, "reason", "", "the matter the hold is for (required)")

	var liftReason string
	lift := &cobra.Command{
		Use:     "lift HOLD_ID [--reason TEXT]",
		Aliases: []string{"remove"},
		Short:   "Lift a legal hold (an archive event); retention may then purge its records",
		Args:    cobra.ExactArgs(1),
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, args []string) error {
			h, err := svc.LiftHold(c.Context(), args[0], liftReason)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: lifted (was on %s %s)\n", h.ID, h.Scope, h.Target)
			return nil
		}),
	}
	lift.Flags().StringVar(&liftReason, "reason", "", "why it is lifted")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the holds in force",
		Args:  cobra.NoArgs,
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, _ []string) error {
			holds, err := svc.Holds(c.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSCOPE\tTARGET\tSET\tBY\tREASON")
			for _, h := range holds {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.Scope, h.Target, h.SetAt.Format(time.RFC3339), h.By.Name, h.Reason)
			}
			return w.Flush()
		}),
	}
	cmd.AddCommand(set, lift, list)
	return cmd
}

func holdTarget(consumer, thread, employee string) (bridge.HoldScope, string, error) {
	var scope bridge.HoldScope
	var target string
	n := 0
	for _, o := range []struct {
		s bridge.HoldScope
		v string
	}{{bridge.HoldConsumer, consumer}, {bridge.HoldThread, thread}, {bridge.HoldEmployee, employee}} {
		if o.v != "" {
			scope, target = o.s, o.v
			n++
		}
	}
	if n != 1 {
		return "", "", errOneHoldTarget
	}
	return scope, target, nil
}

// retentionCmd runs retention now, as the daily job would: for an operator
// who just shortened the period, or a first purge after an upgrade.
func retentionCmd(withService serviceRun) *cobra.Command {
	cmd := &cobra.Command{Use: "retention", Short: "Retention of records (the period is the policy key retention_days)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "run",
		Short: "Purge now what is older than retention_days and under no hold, as the daily job does",
		Args:  cobra.NoArgs,
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, _ []string) error {
			if os.Getenv("MULTILINE_ARCHIVE_SMTP_URL") != "" {
				svc.PurgeJournaledOnly() // as the servers do: nothing leaves before it was journaled
			}
			res, err := svc.Purge(c.Context())
			if err != nil {
				return err
			}
			return json.NewEncoder(c.OutOrStdout()).Encode(res)
		}),
	})
	return cmd
}
