package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/spf13/cobra"
)

func serveCmd() *cobra.Command {
	var dev bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the service (HTTP endpoints and durable jobs)",
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := LoadConfig(os.Getenv, dev)
			if err != nil {
				return err
			}
			return serve(c.Context(), cfg)
		},
	}
	cmd.Flags().BoolVar(&dev, "dev", false, "local mode: SQLite, built-in WeChat simulator, no bot token check")
	return cmd
}

// newServer builds the application and its HTTP routes.
func newServer(ctx context.Context, cfg Config, log *slog.Logger) (*application, *echo.Echo, error) {
	app, err := build(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/readyz", func(c echo.Context) error {
		if err := app.Ready(c.Request().Context()); err != nil {
			return c.String(http.StatusServiceUnavailable, "not ready: "+err.Error())
		}
		return c.String(http.StatusOK, "ready")
	})
	app.Routes(e)
	return app, e, nil
}

// shutdownGrace is how long in-flight requests get to finish after SIGTERM.
const shutdownGrace = 20 * time.Second

func serve(ctx context.Context, cfg Config) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)

	app, e, err := newServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()

	srv := &http.Server{Addr: cfg.Addr, Handler: e, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("multiline serving", "addr", cfg.Addr, "public_url", cfg.PublicURL, "dev", cfg.Dev, "version", version)
	app.Start(ctx)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	app.Stop(sctx)
	return nil
}
