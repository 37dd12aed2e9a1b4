package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/ratelimit"
)

// keysCommand manages API keys: create shows the whole key once, list and revoke name keys by id.
func (c *cli) keysCommand() *cobra.Command {
	return group(&cobra.Command{Use: "keys", Short: "Manage API keys"},
		c.keysCreateCommand(), c.keysListCommand(), c.keysRevokeCommand())
}

func (c *cli) keysCreateCommand() *cobra.Command {
	var tenant, user, scopes, name, limits string
	var quota int64
	cmd := &cobra.Command{
		Use:     "create --user U [--tenant T] [--scopes S] [--name N] [--limits L] [--daily-quota N]",
		Short:   "Create an API key and print it, the only time it is shown",
		Example: "  jarvis keys create --user gpt-prod --name \"GPT prod\" --scopes actions:read,actions:write,jobs --limits music.generate=20 --daily-quota 50",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rates, err := ratelimit.ParseRates(limits)
			if err != nil {
				return usagef("--limits: %w", err)
			}
			db, err := c.openDatabase(cmd, mayWrite)
			if err != nil {
				return err
			}
			defer db.Close()
			k, secret, err := keys.NewStore(db).Create(cmd.Context(), keys.NewKey{Name: name, Tenant: tenant, User: user,
				Scopes: splitComma(scopes), Limits: rates, DailyQuota: quota})
			if err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(c.stdout, "Created API key %s for %s/%s with scopes %s.\n", k.ID, k.Tenant, k.User, strings.Join(k.Scopes, " "))
			fmt.Fprintf(c.stdout, "This is the only time the key is shown; keep it secret:\n\n%s\n", secret)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "default", "tenant the key's calls belong to")
	f.StringVar(&user, "user", "", "user the key's calls belong to (required)")
	f.StringVar(&scopes, "scopes", "actions:read,actions:write,jobs", "comma-separated scopes: "+strings.Join(services.AllScopes, ", "))
	f.StringVar(&name, "name", "", "a label, such as the GPT or service that uses the key")
	f.StringVar(&limits, "limits", "", "limit overrides for this key, class=rate pairs as in JARVIS_RATE_LIMITS")
	f.Int64Var(&quota, "daily-quota", 0, "long actions per UTC day for this key; 0 for the server's default")
	_ = cmd.RegisterFlagCompletionFunc("scopes", cobra.FixedCompletions(services.AllScopes, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (c *cli) keysListCommand() *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--all] [--json]",
		Short: "List the API keys, without their secrets",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := c.openDatabase(cmd, readOnly)
			if err != nil {
				return err
			}
			defer db.Close()
			list, err := keys.NewStore(db).List(cmd.Context(), all)
			if err != nil {
				return err
			}
			if asJSON {
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
				return printJSON(c.stdout, out)
			}
			tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
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
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include revoked keys")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *cli) keysRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key by its id, as keys list shows it",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !keys.ValidID(args[0]) {
				return usagef("keys revoke: give one key id, as keys list shows it")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := c.openDatabase(cmd, readOnly)
			if err != nil {
				return err
			}
			defer db.Close()
			k, err := keys.NewStore(db).Revoke(cmd.Context(), args[0])
			if err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(c.stdout, "Revoked API key %s (%s/%s) at %s. Servers stop accepting it within JARVIS_KEY_CACHE_TTL.\n",
				k.ID, k.Tenant, k.User, k.RevokedAt.Format(time.RFC3339))
			return nil
		},
	}
}

// serviceError is err as its reader should see it: a service's detail, or err itself.
func serviceError(err error) error {
	if se, ok := services.AsError(err); ok {
		return errors.New(se.Detail)
	}
	return err
}

func splitComma(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
