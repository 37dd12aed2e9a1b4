package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/tenantdata"
)

const dataLong = `A tenant's data: files in and out, the demo artist.

KIND is one of metrics, campaigns, campaign-results, listeners, listener-activity, feedback,
competitors; the README's Data section lists each one's columns. The tenant is dev, the
development server's, unless --tenant names another. The format of import follows FILE's
extension (.csv, .jsonl or .ndjson) unless --format is given; export writes csv by default.`

// dataCommand imports, exports and reports a tenant's data, and loads the demo artist.
func (c *cli) dataCommand() *cobra.Command {
	return group(&cobra.Command{Use: "data", Short: "A tenant's data: import, export, demo, coverage", Long: dataLong},
		c.dataImportCommand(), c.dataExportCommand(), c.dataDemoCommand(), c.dataCoverageCommand())
}

// tenantFlag adds --tenant, which every data subcommand takes.
func tenantFlag(cmd *cobra.Command, tenant *string) {
	cmd.Flags().StringVar(tenant, "tenant", services.DevelopmentPrincipal.Tenant, "tenant the data belongs to")
}

func formatFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVar(format, "format", "", "csv or jsonl")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"csv", "jsonl"}, cobra.ShellCompDirectiveNoFileComp))
}

func (c *cli) dataImportCommand() *cobra.Command {
	var tenant, format string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import KIND FILE [--tenant T] [--format csv|jsonl]",
		Short: "Import a file of one kind, all of it or none, and print the report",
		Long:  dataLong,
		Args:  exactArgs(2, "a kind and a file"),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return kindNames(), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveDefault
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := parseKind(args[0])
			if err != nil {
				return err
			}
			f, err := parseFormat(format, args[1])
			if err != nil {
				return err
			}
			file, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer file.Close()
			db, err := c.openDatabase(cmd, mayWrite)
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := tenantdata.NewStore(db).Import(cmd.Context(), tenant, kind, f, bufio.NewReaderSize(file, 256<<10))
			if rep.Kind != "" {
				if asJSON {
					if err := printJSON(c.stdout, rep); err != nil {
						return err
					}
				} else {
					printReport(c.stdout, args[1], tenant, rep)
				}
			}
			return serviceError(err)
		},
	}
	tenantFlag(cmd, &tenant)
	formatFlag(cmd, &format)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func (c *cli) dataExportCommand() *cobra.Command {
	var tenant, format string
	cmd := &cobra.Command{
		Use:   "export KIND [--tenant T] [--format csv|jsonl]",
		Short: "Write a tenant's rows of one kind to stdout, ordered by key",
		Long:  dataLong,
		Args:  exactArgs(1, "a kind"),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return kindNames(), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := parseKind(args[0])
			if err != nil {
				return err
			}
			f, err := parseFormat(format, "")
			if err != nil {
				return err
			}
			db, err := c.openDatabase(cmd, readOnly)
			if err != nil {
				return err
			}
			defer db.Close()
			w := bufio.NewWriterSize(c.stdout, 256<<10)
			if err := tenantdata.NewStore(db).Export(cmd.Context(), tenant, kind, f, w); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	tenantFlag(cmd, &tenant)
	formatFlag(cmd, &format)
	return cmd
}

func (c *cli) dataDemoCommand() *cobra.Command {
	var tenant string
	var seed uint64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "demo [--tenant T] [--seed N]",
		Short: "Load the synthetic demo artist into a tenant",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := c.openDatabase(cmd, mayWrite)
			if err != nil {
				return err
			}
			defer db.Close()
			reports, err := tenantdata.NewStore(db).LoadDemo(cmd.Context(), tenant, seed, time.Now())
			if err != nil {
				return serviceError(err)
			}
			if asJSON {
				return printJSON(c.stdout, reports)
			}
			fmt.Fprintf(c.stdout, "Loaded the demo artist (seed %d) into tenant %s:\n", seed, tenant)
			tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tROWS\tINSERTED\tUPDATED\tUNCHANGED")
			for _, r := range reports {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", r.Kind, r.Read, r.Inserted, r.Updated, r.Unchanged)
			}
			return tw.Flush()
		},
	}
	tenantFlag(cmd, &tenant)
	cmd.Flags().Uint64Var(&seed, "seed", tenantdata.DemoSeed, "seed of the demo artist")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return cmd
}

func (c *cli) dataCoverageCommand() *cobra.Command {
	var tenant string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "coverage [--tenant T]",
		Short: "Print the rows and date range a tenant holds per kind",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := c.openDatabase(cmd, readOnly)
			if err != nil {
				return err
			}
			defer db.Close()
			cov, err := tenantdata.NewStore(db).Coverage(cmd.Context(), tenant)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, cov)
			}
			fmt.Fprintf(c.stdout, "Tenant %s, dataset %s:\n", cov.Tenant, dash(cov.Dataset))
			tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tROWS\tFROM\tTO")
			for _, k := range cov.Kinds {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", k.Kind, k.Rows, dash(k.From), dash(k.To))
			}
			return tw.Flush()
		},
	}
	tenantFlag(cmd, &tenant)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func parseKind(arg string) (tenantdata.Kind, error) {
	k, ok := tenantdata.ParseKind(arg)
	if !ok {
		return "", usagef("data: %q is not a kind; use one of %s", arg, strings.Join(kindNames(), ", "))
	}
	return k, nil
}

// parseFormat is the --format given, or else the one of file's extension, or else csv.
func parseFormat(flag, file string) (tenantdata.Format, error) {
	name := flag
	if name == "" {
		name = strings.TrimPrefix(filepath.Ext(file), ".")
	}
	if name == "" {
		name = "csv"
	}
	f, ok := tenantdata.ParseFormat(name)
	if !ok {
		return "", usagef("data: %q is not a format; give --format csv or --format jsonl", name)
	}
	return f, nil
}

func printReport(w io.Writer, file, tenant string, rep tenantdata.Report) {
	fmt.Fprintf(w, "%s (%s, %s) into tenant %s: %d rows read, %d inserted, %d updated, %d unchanged, %d rejected\n",
		file, rep.Kind, rep.Format, tenant, rep.Read, rep.Inserted, rep.Updated, rep.Unchanged, rep.Rejected)
	if rep.Rejected == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tCOLUMN\tREASON")
	for _, e := range rep.Errors {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", e.Line, dash(e.Column), e.Reason)
	}
	tw.Flush()
	if n := rep.Rejected - len(rep.Errors); n > 0 {
		fmt.Fprintf(w, "and %d more rejected rows\n", n)
	}
}

func kindNames() []string {
	s := make([]string, len(tenantdata.Kinds))
	for i, k := range tenantdata.Kinds {
		s[i] = string(k)
	}
	return s
}
