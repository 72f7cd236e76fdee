package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/lexicon"
)

// lexiconCmd is `multiline admin lexicon`: compliance officers list, add and
// remove the company's lexicon (DLP) rules, and test a text against them, from
// the command line. A change is recorded in the archive and applies to the next
// message on every running server, with no restart.
func lexiconCmd(withService serviceRun) *cobra.Command {
	cmd := &cobra.Command{Use: "lexicon", Short: "List, add, remove and test the company's lexicon (DLP) rules"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the rules, in the order they apply",
		Args:  cobra.NoArgs,
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, _ []string) error {
			rules, err := svc.LexiconRules(c.Context())
			if err != nil {
				return err
			}
			return printRules(c.OutOrStdout(), rules)
		}),
	})

	var add bridge.LexiconRule
	var direction, action string
	var disabled bool
	addCmd := &cobra.Command{
		Use:   "add --name NAME --pattern RE2 --direction inbound|outbound|both --action block|redact|flag",
		Short: "Add a rule; a pattern that is not valid RE2 is refused and nothing is stored",
		Args:  cobra.NoArgs,
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, _ []string) error {
			r, err := ruleFromFlags(add.Name, add.Pattern, direction, action)
			if err != nil {
				return err
			}
			if err := svc.AddLexiconRule(c.Context(), bridge.LexiconRule{Rule: r, Enabled: !disabled}); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "added rule %q: %s %s %s\n", r.Name, r.Direction, r.Action, r.Pattern)
			return nil
		}),
	}
	addCmd.Flags().StringVar(&add.Name, "name", "", "the rule's name, shown in \"Blocked by policy: NAME\"")
	addCmd.Flags().StringVar(&add.Pattern, "pattern", "", "a Go RE2 regular expression; (?i) ignores case")
	addCmd.Flags().StringVar(&direction, "direction", "both", "inbound, outbound or both")
	addCmd.Flags().StringVar(&action, "action", "", "block, redact or flag")
	addCmd.Flags().BoolVar(&disabled, "disabled", false, "store the rule without putting it in force")
	for _, f := range []string{"name", "pattern", "action"} {
		_ = addCmd.MarkFlagRequired(f)
	}
	cmd.AddCommand(addCmd)

	cmd.AddCommand(&cobra.Command{
		Use:   "remove NAME",
		Short: "Remove the rule of this name (ignoring case)",
		Args:  cobra.ExactArgs(1),
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, args []string) error {
			if err := svc.RemoveLexiconRule(c.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "removed rule %q\n", args[0])
			return nil
		}),
	})

	var try lexicon.Rule
	var tryDirection, tryAction string
	testCmd := &cobra.Command{
		Use:   "test TEXT",
		Short: "Show what TEXT would become, outbound and inbound, under the stored rules (plus a rule given with --pattern); stores nothing",
		Args:  cobra.ExactArgs(1),
		RunE: withService(func(c *cobra.Command, svc *bridge.Service, args []string) error {
			var extra *lexicon.Rule
			if try.Pattern != "" {
				if try.Name == "" {
					try.Name = "tested rule"
				}
				r, err := ruleFromFlags(try.Name, try.Pattern, tryDirection, tryAction)
				if err != nil {
					return err
				}
				extra = &r
			}
			out, in, err := svc.TestLexicon(c.Context(), args[0], extra)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), out.Summary())
			fmt.Fprintln(c.OutOrStdout(), in.Summary())
			return nil
		}),
	}
	testCmd.Flags().StringVar(&try.Name, "name", "", "name of a rule to try before adding it")
	testCmd.Flags().StringVar(&try.Pattern, "pattern", "", "pattern of a rule to try before adding it")
	testCmd.Flags().StringVar(&tryDirection, "direction", "both", "direction of the rule to try")
	testCmd.Flags().StringVar(&tryAction, "action", "flag", "action of the rule to try")
	cmd.AddCommand(testCmd)
	return cmd
}

// ruleFromFlags reads a rule as the flags give it; direction and action are
// parsed loosely (any case), the pattern is checked when the rule is added.
func ruleFromFlags(name, pattern, direction, action string) (lexicon.Rule, error) {
	d, err := lexicon.ParseDirection(direction)
	if err != nil {
		return lexicon.Rule{}, fmt.Errorf("--direction: %w", err)
	}
	a, err := lexicon.ParseAction(action)
	if err != nil {
		return lexicon.Rule{}, fmt.Errorf("--action: %w", err)
	}
	r := lexicon.Rule{Name: name, Pattern: pattern, Direction: d, Action: a}
	if err := r.Validate(); err != nil {
		return lexicon.Rule{}, fmt.Errorf("the rule is not valid: %w", err)
	}
	return r, nil
}

// printRules writes the rules as a table.
func printRules(w io.Writer, rules []bridge.LexiconRule) error {
	if len(rules) == 0 {
		_, err := fmt.Fprintln(w, "no lexicon rules")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIRECTION\tACTION\tENABLED\tPATTERN")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", r.Name, r.Direction, r.Action, r.Enabled, strings.ReplaceAll(r.Pattern, "\t", `\t`))
	}
	return tw.Flush()
}
