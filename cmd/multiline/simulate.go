package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/multiline/multiline/wechat/fakewechat"
	"github.com/multiline/multiline/wechat/simulate"
)

func simulateCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "simulate [flags]",
		Short:              "Play a WeChat consumer against the local simulator (run with --help for the flags)",
		DisableFlagParsing: true, // simulate.Run parses its own flags
		RunE: func(c *cobra.Command, args []string) error {
			err := simulate.Run(c.Context(), args, c.OutOrStdout())
			if errors.Is(err, simulate.ErrUsage) {
				os.Exit(2)
			}
			return err
		},
	}
}

// fakeWeChatCmd runs the WeChat simulator as its own process, so that a test can
// kill the service and still read what WeChat received.
func fakeWeChatCmd() *cobra.Command {
	var addr, callback string
	cmd := &cobra.Command{
		Use:   "fakewechat",
		Short: "Run the WeChat simulator on its own (for tests that restart the service)",
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := LoadConfig(os.Getenv, true)
			if err != nil {
				return err
			}
			fake, err := fakewechat.New(fakewechat.Config{
				CorpID: cfg.WeComCorpID, KfSecret: cfg.WeComKFSecret,
				CallbackToken: cfg.WeComCallbackToken, EncodingAESKey: cfg.WeComAESKey,
				CallbackURL: callback, OpenKfID: fakewechat.DefaultOpenKfID,
			})
			if err != nil {
				return err
			}
			srv := &http.Server{Addr: addr, Handler: fake, ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-c.Context().Done()
				srv.Close()
			}()
			fmt.Fprintf(c.OutOrStdout(), "fake WeChat on http://%s, callbacks to %s\n", addr, callback)
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:3979", "listen address")
	cmd.Flags().StringVar(&callback, "callback", "http://127.0.0.1:3978/wechat/callback", "the service's WeChat callback URL")
	return cmd
}
