package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/tenantdata"
)

const dataUsage = `usage:
  jarvis data import KIND FILE [--tenant T] [--format csv|jsonl]
  jarvis data export KIND [--tenant T] [--format csv|jsonl]
  jarvis data demo [--tenant T] [--seed N]
  jarvis data coverage [--tenant T]

KIND is one of metrics, campaigns, campaign-results, listeners, listener-activity, feedback,
competitors; the README's Data section lists each one's columns. The tenant is dev, the
development server's, unless --tenant names another. The format of import follows FILE's
extension (.csv, .jsonl or .ndjson) unless --format is given; export writes csv by default.
`

// dataCommand imports, exports and reports a tenant's data, and loads the demo artist.
func dataCommand(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, dataUsage)
		return errors.New("data: name a subcommand")
	}
	fs := flag.NewFlagSet("data "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, dataUsage) }
	tenant := fs.String("tenant", services.DevelopmentPrincipal.Tenant, "tenant the data belongs to")
	format := fs.String("format", "", "csv or jsonl")
	seed := fs.Uint64("seed", tenantdata.DemoSeed, "seed of the demo artist")
	// Flags may come before or after the positional arguments.
	var pos []string
	rest := args[1:]
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		rest = fs.Args()
		if len(rest) > 0 {
			pos = append(pos, rest[0])
			rest = rest[1:]
		}
	}
	ctx := context.Background()
	kindArg := func() (tenantdata.Kind, error) {
		if len(pos) == 0 {
			fmt.Fprint(stderr, dataUsage)
			return "", errors.New("data: name a kind")
		}
		k, ok := tenantdata.ParseKind(pos[0])
		if !ok {
			return "", fmt.Errorf("data: %q is not a kind; use one of %s", pos[0], kindNames())
		}
		return k, nil
	}
	formatArg := func(file string) (tenantdata.Format, error) {
		name := *format
		if name == "" {
			name = strings.TrimPrefix(filepath.Ext(file), ".")
		}
		if name == "" {
			name = "csv"
		}
		f, ok := tenantdata.ParseFormat(name)
		if !ok {
			return "", fmt.Errorf("data: %q is not a format; give --format csv or --format jsonl", name)
		}
		return f, nil
	}

	switch args[0] {
	case "import":
		kind, err := kindArg()
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			fmt.Fprint(stderr, dataUsage)
			return errors.New("data import: give a kind and a file")
		}
		f, err := formatArg(pos[1])
		if err != nil {
			return err
		}
		file, err := os.Open(pos[1])
		if err != nil {
			return err
		}
		defer file.Close()
		db, err := openDB(ctx, lookup)
		if err != nil {
			return err
		}
		defer db.Close()
		rep, err := tenantdata.NewStore(db).Import(ctx, *tenant, kind, f, bufio.NewReaderSize(file, 256<<10))
		if rep.Kind != "" {
			printReport(stdout, pos[1], *tenant, rep)
		}
		if se, ok := services.AsError(err); ok {
			return errors.New(se.Detail)
		}
		return err
	case "export":
		kind, err := kindArg()
		if err != nil {
			return err
		}
		f, err := formatArg("")
		if err != nil {
			return err
		}
		db, err := openDB(ctx, lookup)
		if err != nil {
			return err
		}
		defer db.Close()
		w := bufio.NewWriterSize(stdout, 256<<10)
		if err := tenantdata.NewStore(db).Export(ctx, *tenant, kind, f, w); err != nil {
			return err
		}
		return w.Flush()
	case "demo":
		db, err := openDB(ctx, lookup)
		if err != nil {
			return err
		}
		defer db.Close()
		reports, err := tenantdata.NewStore(db).LoadDemo(ctx, *tenant, *seed, time.Now())
		if se, ok := services.AsError(err); ok {
			return errors.New(se.Detail)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Loaded the demo artist (seed %d) into tenant %s:\n", *seed, *tenant)
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tROWS\tINSERTED\tUPDATED\tUNCHANGED")
		for _, r := range reports {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", r.Kind, r.Read, r.Inserted, r.Updated, r.Unchanged)
		}
		return tw.Flush()
	case "coverage":
		db, err := openDB(ctx, lookup)
		if err != nil {
			return err
		}
		defer db.Close()
		c, err := tenantdata.NewStore(db).Coverage(ctx, *tenant)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Tenant %s, dataset %s:\n", c.Tenant, dash(c.Dataset))
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tROWS\tFROM\tTO")
		for _, k := range c.Kinds {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", k.Kind, k.Rows, dash(k.From), dash(k.To))
		}
		return tw.Flush()
	}
	fmt.Fprint(stderr, dataUsage)
	return fmt.Errorf("data: unknown subcommand %q", args[0])
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

func kindNames() string {
	s := make([]string, len(tenantdata.Kinds))
	for i, k := range tenantdata.Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
