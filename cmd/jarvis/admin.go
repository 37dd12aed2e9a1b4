package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/app"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/storage"
	metering "github.com/aidawg/jarvis/services/usage"
)

const keysUsage = `usage:
  jarvis keys create --tenant T --user U --scopes actions:read,actions:write,jobs [--name N]
                     [--limits music.generate=20,*=500] [--daily-quota N]
  jarvis keys list [--all] [--json]
  jarvis keys revoke <id>
`

const usageUsage = `usage: jarvis usage [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--key ID] [--operation ID] [--json]
`

func openDB(ctx context.Context, lookup func(string) (string, bool)) (*storage.DB, error) {
	cfg, err := app.LoadConfig(lookup)
	if err != nil {
		return nil, err
	}
	db, _, err := app.OpenDatabase(ctx, cfg)
	return db, err
}

// keysCommand manages API keys: create shows the whole key once, list and revoke name keys by id.
func keysCommand(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return errors.New("keys: name a subcommand")
	}
	ctx := context.Background()
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		tenant := fs.String("tenant", "default", "tenant the key's calls belong to")
		user := fs.String("user", "", "user the key's calls belong to (required)")
		scopes := fs.String("scopes", "actions:read,actions:write,jobs", "comma-separated scopes: "+strings.Join(services.AllScopes, ", "))
		name := fs.String("name", "", "a label, such as the GPT or service that uses the key")
		limits := fs.String("limits", "", "limit overrides for this key, class=rate pairs as in JARVIS_RATE_LIMITS")
		quota := fs.Int64("daily-quota", 0, "long actions per UTC day for this key; 0 for the server's default")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		rates, err := ratelimit.ParseRates(*limits)
		if err != nil {
			return fmt.Errorf("--limits: %w", err)
		}
		db, err := openDB(ctx, lookup)
		if err != nil {
			return err
		}
		defer db.Close()
		k, secret, err := keys.NewStore(db).Create(ctx, keys.NewKey{Name: *name, Tenant: *tenant, User: *user,
			Scopes: splitComma(*scopes), Limits: rates, DailyQuota: *quota})
		if se, ok := services.AsError(err); ok {
			return errors.New(se.Detail)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created API key %s for %s/%s with scopes %s.\n", k.ID, k.Tenant, k.User, strings.Join(k.Scopes, " "))
		fmt.Fprintf(stdout, "This is the only time the key is shown; keep it secret:\n\n%s\n", secret)
		return nil
	case "list":
		fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
		fs.SetOutput(stderr)
		all := fs.Bool("all", false, "include revoked keys")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		db, err := openDB(ctx, lookup)
		if err != nil {
			return err
		}
		defer db.Close()
		list, err := keys.NewStore(db).List(ctx, *all)
		if err != nil {
			return err
		}
		if *asJSON {
			type keyJSON struct {
				ID         string     `json:"id"`
				Name       string     `json:"name"`
				Tenant     string     `json:"tenant"`
				User       string     `json:"user"`
				Scopes     []string   `json:"scopes"`
				Limits     string     `json:"limits,omitempty"`
				DailyQuota int64      `json:"dailyQuota,omitempty"`
				CreatedAt  time.Time  `json:"createdAt"`
				RevokedAt  *time.Time `json:"revokedAt,omitempty"`
			}
			out := make([]keyJSON, 0, len(list))
			for _, k := range list {
				out = append(out, keyJSON{k.ID, k.Name, k.Tenant, k.User, k.Scopes, ratelimit.FormatRates(k.Limits), k.DailyQuota, k.CreatedAt, k.RevokedAt})
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tTENANT/USER\tSCOPES\tLIMITS\tDAILY QUOTA\tCREATED\tREVOKED")
		for _, k := range list {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s\t%s\t%d\t%s\t%s\n", k.ID, dash(k.Name), k.Tenant, k.User,
				strings.Join(k.Scopes, " "), dash(ratelimit.FormatRates(k.Limits)), k.DailyQuota, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if len(args) != 2 || !keys.ValidID(args[1]) {
			fmt.Fprint(stderr, keysUsage)
			return errors.New("keys revoke: give one key id, as keys list shows it")
		}
		db, err := openDB(ctx, lookup)
		if err != nil {
			return err
		}
		defer db.Close()
		k, err := keys.NewStore(db).Revoke(ctx, args[1])
		if se, ok := services.AsError(err); ok {
			return errors.New(se.Detail)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Revoked API key %s (%s/%s) at %s. Servers stop accepting it within JARVIS_KEY_CACHE_TTL.\n",
			k.ID, k.Tenant, k.User, k.RevokedAt.Format(time.RFC3339))
		return nil
	}
	fmt.Fprint(stderr, keysUsage)
	return fmt.Errorf("keys: unknown subcommand %q", args[0])
}

// usageCommand prints metered usage per caller, operation and day.
func usageCommand(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("usage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	today := time.Now().UTC()
	from := fs.String("from", today.AddDate(0, 0, -6).Format(metering.DayLayout), "first UTC day")
	to := fs.String("to", today.Format(metering.DayLayout), "last UTC day")
	key := fs.String("key", "", "only this API key's usage")
	op := fs.String("operation", "", "only this operation's usage")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		fmt.Fprint(stderr, usageUsage)
		return err
	}
	for _, d := range []string{*from, *to} {
		if _, err := time.Parse(metering.DayLayout, d); err != nil {
			return fmt.Errorf("usage: %q is not a day such as 2026-11-28", d)
		}
	}
	ctx := context.Background()
	db, err := openDB(ctx, lookup)
	if err != nil {
		return err
	}
	defer db.Close()
	m := metering.NewMeter(db, zerolog.Nop(), 0)
	defer m.Close()
	var rows []metering.Row
	cursor := ""
	for {
		page, next, err := m.Query(ctx, metering.Filter{From: *from, To: *to, KeyID: *key, Operation: *op, Limit: 1000, Cursor: cursor})
		if err != nil {
			return err
		}
		rows = append(rows, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []metering.Row{}
		}
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DAY\tSUBJECT\tOPERATION\tCALLS\tERRORS\tTOTAL MS\tAVG MS\t")
	for _, r := range rows {
		avg := int64(0)
		if r.Calls > 0 {
			avg = r.DurationMs / r.Calls
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t\n", r.Day, r.Subject, r.Operation, r.Calls, r.Errors, r.DurationMs, avg)
	}
	return tw.Flush()
}

func splitComma(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
