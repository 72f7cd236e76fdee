package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/spf13/cobra"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/metrics"
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
	e.Use(requestIDs(log)...)
	e.Use(middleware.Recover())
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/readyz", readyz(app))
	// /metrics is not here: it has its own listener (MULTILINE_METRICS_ADDR).
	app.Routes(e)
	return app, e, nil
}

// shutdownGrace is how long in-flight requests get to finish after SIGTERM.
const shutdownGrace = 20 * time.Second

func serve(ctx context.Context, cfg Config) error {
	log := newLogger(cfg.LogFormat, os.Stderr)
	slog.SetDefault(log)

	app, e, err := newServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()

	// /metrics on its own listener, opened first so that an address that cannot
	// be used stops start-up before anything is served.
	mln, err := listenMetrics(cfg, log)
	if err != nil {
		return err
	}
	state := app.stateCollector()
	if err := metrics.Registry.Register(state); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer metrics.Registry.Unregister(state)
	var msrv *http.Server
	errc := make(chan error, 2)
	if mln != nil {
		msrv = metricsServer()
		go func() {
			if err := msrv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics listener: %w", err)
			}
		}()
		log.Info("metrics serving", "addr", mln.Addr().String(), "path", "/metrics")
	}

	srv := &http.Server{Addr: cfg.Addr, Handler: e, ReadHeaderTimeout: 10 * time.Second}
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
	// The job runner gets its own budget: handlers that made an outside call
	// commit its result within bridge.DrainTimeout, however long the HTTP
	// shutdown took.
	jctx, jcancel := context.WithTimeout(context.Background(), bridge.DrainTimeout+5*time.Second)
	defer jcancel()
	app.Stop(jctx)
	// /metrics stays up until the work has drained, so the last scrapes see it.
	if msrv != nil {
		if err := msrv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return nil
}
