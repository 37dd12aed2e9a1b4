package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/aidawg/jarvis/app"
	"github.com/aidawg/jarvis/services/storage"
)

func (c *cli) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the API",
		Long: `Serve the API on JARVIS_ADDR until SIGINT or SIGTERM, then drain the requests in flight.
The database schema is brought up to date first. Logs are JSON lines on stdout.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config(cmd)
			if err != nil {
				return err
			}
			app.TuneRuntime(c.lookup)
			log, logs := app.NewLogger(cfg, c.stdout)
			defer logs.Close()

			a, err := app.New(cfg, log)
			if err != nil {
				return err
			}
			defer a.Close()

			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log.Info().Str("addr", ln.Addr().String()).Str("publicUrl", cfg.PublicURL).Str("env", cfg.Env).
				Str("database", storage.Describe(cfg.DatabaseURL, cfg.DataDir)).Bool("tls", cfg.TLS()).Str("version", app.Version).Msg("serving")
			if err := a.Serve(ctx, ln); err != nil {
				return err
			}
			log.Info().Msg("stopped")
			return nil
		},
	}
}

func (c *cli) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to date (serve also does this at start)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config(cmd)
			if err != nil {
				return err
			}
			db, applied, err := app.OpenDatabase(cmd.Context(), cfg)
			for _, name := range applied {
				fmt.Fprintf(c.stdout, "applied %s\n", name)
			}
			if err != nil {
				return err
			}
			defer db.Close()
			fmt.Fprintf(c.stdout, "%s database %s is up to date\n", db.Dialect, db.Location)
			return nil
		},
	}
}

func (c *cli) aidawgCommand() *cobra.Command {
	var addr string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the embedded AI Dawg modules alone, on the AI Dawg contract",
		Long: `Serve the embedded AI Dawg modules alone on the AI Dawg contract, so that they stand in for
the backend: point another Jarvis's JARVIS_AIDAWG_URL at it.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config(cmd)
			if err != nil {
				return err
			}
			app.TuneRuntime(c.lookup)
			log, logs := app.NewLogger(cfg, c.stdout)
			defer logs.Close()
			log = log.With().Str("role", "aidawg").Logger()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log.Info().Str("addr", ln.Addr().String()).Msg("serving the embedded AI Dawg modules")
			if err := app.ServeEmbeddedModules(ctx, ln, cfg, log); err != nil {
				return err
			}
			log.Info().Msg("stopped")
			return nil
		},
	}
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:3001", "address to listen on")
	return group(&cobra.Command{Use: "aidawg", Short: "The embedded AI Dawg modules as a backend of their own"}, serve)
}
