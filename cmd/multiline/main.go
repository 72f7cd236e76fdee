// Command multiline is the MultiLine for WeChat service: one binary that serves the
// Teams bot, the tab and the WeChat callback, runs the durable jobs, and manages
// the database and the Teams app package.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			fmt.Fprintln(os.Stderr, ce.Error())
			os.Exit(2)
		}
		slog.Error("multiline", "err", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "multiline",
		Short:         "MultiLine for WeChat: chat with WeChat consumers from Microsoft Teams",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		serveCmd(),
		migrateCmd(),
		manifestCmd(),
		adminCmd(),
		archiveCmd(),
		auditCmd(),
		configCmd(),
		simulateCmd(),
		fakeWeChatCmd(),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Run:   func(c *cobra.Command, _ []string) { fmt.Fprintln(c.OutOrStdout(), "multiline", version) },
		},
	)
	return root
}
