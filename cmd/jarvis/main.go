// Command jarvis is the Jarvis server and its administration tools.
//
// Each command group lives in a file of its own (serve.go, keys.go, data.go, ...) as a
// function that returns its cobra command; root adds them. A new group is a new file and
// one line in root.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aidawg/jarvis/app"
)

func main() {
	os.Exit(execute(context.Background(), os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes: a command that failed, and a command line that is wrong.
const (
	exitFailure = 1
	exitUsage   = 2
)

// execute runs the command line args and answers the process's exit code.
func execute(ctx context.Context, args []string, lookup func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{lookup: lookup, stdin: stdin, stdout: stdout, stderr: stderr}
	root := c.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "jarvis:", err)
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return exitFailure
}

// cli is what every command shares: where it reads and writes, the environment, the global flags.
type cli struct {
	lookup         func(string) (string, bool)
	stdin          io.Reader
	stdout, stderr io.Writer

	configFile  string
	dataDir     string
	databaseURL string
}

func (c *cli) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "jarvis",
		Short: "The gateway between AI assistants and the AI Dawg music platform",
		Long: `jarvis serves the Jarvis API and administers its database.

Settings come from JARVIS_* environment variables (jarvis config lists them), optionally
from a YAML file (--config) under them; --data-dir and --database-url override both.`,
		Version:       app.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noSubcommand,
		RunE:          helpWhenBare,
	}
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetVersionTemplate("{{.Version}}\n")
	configDefault, _ := c.lookup("JARVIS_CONFIG")
	flags := root.PersistentFlags()
	flags.StringVar(&c.configFile, "config", configDefault, "YAML `file` of settings, under the environment (default $JARVIS_CONFIG)")
	flags.StringVar(&c.dataDir, "data-dir", "", "`directory` of the SQLite database, artifacts and generated keys; overrides JARVIS_DATA_DIR")
	flags.StringVar(&c.databaseURL, "database-url", "", "database `URL` (postgres://, sqlite:); overrides JARVIS_DATABASE_URL")

	root.AddCommand(
		c.serveCommand(),
		c.migrateCommand(),
		c.healthCommand(),
		c.aidawgCommand(),
		c.openapiCommand(),
		c.gptCommand(),
		c.configCommand(),
		c.keysCommand(),
		c.usageCommand(),
		c.dataCommand(),
		c.usersCommand(),
		c.oauthCommand(),
		c.versionCommand(),
	)
	return root
}

// config is the settings as the command line, the environment and the config file give them.
func (c *cli) config(cmd *cobra.Command) (app.Config, error) {
	var flags []app.FlagValue
	if cmd.Flags().Changed("data-dir") {
		flags = append(flags, app.FlagValue{Setting: "JARVIS_DATA_DIR", Flag: "--data-dir", Value: c.dataDir})
	}
	if cmd.Flags().Changed("database-url") {
		flags = append(flags, app.FlagValue{Setting: "JARVIS_DATABASE_URL", Flag: "--database-url", Value: c.databaseURL})
	}
	return app.Load(app.Sources{File: c.configFile, Lookup: c.lookup, Flags: flags})
}

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(c.stdout, app.Version)
			return err
		},
	}
}

// usageError is a command line that is wrong, as opposed to a command that failed.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// group makes cmd a command that only holds subcommands: bare, it prints its help; with an
// argument that is no subcommand, it is a usage error.
func group(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.Args = noSubcommand
	cmd.RunE = helpWhenBare
	cmd.AddCommand(subs...)
	return cmd
}

func helpWhenBare(cmd *cobra.Command, _ []string) error { return cmd.Help() }

func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{errors.New(msg)}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// exactArgs wants n arguments, which what names for the message.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s: give %s (got %d arguments)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}
