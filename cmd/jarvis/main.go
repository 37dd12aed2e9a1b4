// Command jarvis is the Jarvis server and its administration tools.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/aidawg/jarvis/app"
	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/openapi"
)

const usage = `usage: jarvis <command>

commands:
  serve               serve the API (configured by JARVIS_* environment variables)
  migrate             bring the database schema up to date (serve also does this at start)
  aidawg serve [--addr 127.0.0.1:3001]
                      serve the embedded AI Dawg modules alone, on the AI Dawg contract
  openapi [--json]    print the contract as served, with servers from JARVIS_PUBLIC_URL
  gpt                 print the GPT builder settings made from the contract (GET /gpt-config.json
                      on a running server also leaves out what that server does not carry out)
  config              print the settings and their defaults
  keys create|list|revoke   manage API keys (jarvis keys for the flags)
  usage               print usage per caller, operation and day
  users create|list   the users who sign in on Jarvis's login page (jarvis users for the flags)
  oauth clients|grants|keys   the authorization server's clients, grants and signing keys
                      (jarvis oauth for the flags)
  data import|export|demo|coverage   a tenant's data: files in and out, the demo artist
                      (jarvis data for the flags)
  version             print the version
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "jarvis:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(stdout)
	case "migrate":
		return migrate(stdout)
	case "aidawg":
		return aidawg(args[1:], stdout, stderr)
	case "gpt":
		cfg, err := app.LoadConfig(os.LookupEnv)
		if err != nil {
			return err
		}
		spec, err := openapi.Load()
		if err != nil {
			return err
		}
		out, err := json.MarshalIndent(handlers.NewGPTConfig(spec, cfg.GPTSetup(nil)), "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, string(out))
		return err
	case "openapi":
		cfg, err := app.LoadConfig(os.LookupEnv)
		if err != nil {
			return err
		}
		yamlDoc, jsonDoc, err := openapi.Served(cfg.PublicURL)
		if err != nil {
			return err
		}
		if len(args) > 1 && args[1] == "--json" {
			_, err = stdout.Write(jsonDoc)
			return err
		}
		_, err = stdout.Write(yamlDoc)
		return err
	case "keys":
		return keysCommand(args[1:], os.LookupEnv, stdout, stderr)
	case "users":
		return usersCommand(args[1:], os.LookupEnv, os.Stdin, stdout, stderr)
	case "oauth":
		return oauthCommand(args[1:], os.LookupEnv, stdout, stderr)
	case "data":
		return dataCommand(args[1:], os.LookupEnv, stdout, stderr)
	case "usage":
		return usageCommand(args[1:], os.LookupEnv, stdout, stderr)
	case "config":
		for _, s := range app.Settings {
			fmt.Fprintf(stdout, "%-28s %-16s %s\n", s.Name, s.Default, s.Help)
		}
		return nil
	case "version":
		fmt.Fprintln(stdout, app.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(logOut io.Writer) error {
	cfg, err := app.LoadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	app.TuneRuntime(os.LookupEnv)
	log, logs := app.NewLogger(cfg, logOut)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info().Str("addr", ln.Addr().String()).Str("publicUrl", cfg.PublicURL).Str("env", cfg.Env).
		Str("version", app.Version).Msg("serving")
	if err := a.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info().Msg("stopped")
	return nil
}

func migrate(out io.Writer) error {
	cfg, err := app.LoadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, applied, err := app.OpenDatabase(ctx, cfg)
	for _, name := range applied {
		fmt.Fprintf(out, "applied %s\n", name)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(out, "%s database %s is up to date\n", db.Dialect, db.Location)
	return nil
}

func aidawg(args []string, logOut, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprint(stderr, usage)
		return errors.New("usage: jarvis aidawg serve [--addr host:port]")
	}
	fs := flag.NewFlagSet("aidawg serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:3001", "address to listen on")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := app.LoadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	app.TuneRuntime(os.LookupEnv)
	log, logs := app.NewLogger(cfg, logOut)
	defer logs.Close()
	log = log.With().Str("role", "aidawg").Logger()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info().Str("addr", ln.Addr().String()).Msg("serving the embedded AI Dawg modules")
	if err := app.ServeEmbeddedModules(ctx, ln, cfg, log); err != nil {
		return err
	}
	log.Info().Msg("stopped")
	return nil
}
