package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/aidawg/jarvis/app"
	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/oauthserver"
)

const defaultOAuthScopes = "actions:read,actions:write,jobs"

// loginLinkTTL is how long the link of users create --link lets its user choose a password.
const loginLinkTTL = 24 * time.Hour

// openOAuth is the authorization server over the configured database, with the settings.
func (c *cli) openOAuth(cmd *cobra.Command, writes bool) (*oauthserver.Server, app.Config, func(), error) {
	cfg, err := c.config(cmd)
	if err != nil {
		return nil, app.Config{}, nil, err
	}
	db, err := c.openConfiguredDatabase(cmd, cfg, writes)
	if err != nil {
		return nil, app.Config{}, nil, err
	}
	srv, err := app.OpenOAuthServer(cfg, db)
	if err != nil {
		db.Close()
		return nil, app.Config{}, nil, err
	}
	return srv, cfg, func() { db.Close() }, nil
}

// usersCommand manages the users who sign in on the login page.
func (c *cli) usersCommand() *cobra.Command {
	return group(&cobra.Command{Use: "users", Short: "Manage the users who sign in on Jarvis's login page"},
		c.usersCreateCommand(), c.usersListCommand())
}

func (c *cli) usersCreateCommand() *cobra.Command {
	var email, tenant, scopes string
	var admin, fromStdin, link bool
	cmd := &cobra.Command{
		Use:   "create --email E [--tenant T] [--scopes S] [--admin] [--password-stdin | --link]",
		Short: "Create a user who signs in with a password",
		Long: `Create a user who signs in on Jarvis's login page with their email and a password.

The password is asked for twice on the terminal, read from the first line of standard input
with --password-stdin, or chosen by the user through the one-time link --link prints (valid 24h).`,
		Example: `  jarvis users create --email alice@example.com --tenant acme
  printf '%s\n' "$PASSWORD" | jarvis users create --email carol@example.com --password-stdin`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if email == "" {
				return usagef("users create: --email is required")
			}
			if fromStdin && link {
				return usagef("users create: give --password-stdin or --link, not both")
			}
			list := splitComma(scopes)
			if admin {
				list = append(list, services.ScopeAdmin)
			}
			password := ""
			switch {
			case link:
			case fromStdin:
				line, err := bufio.NewReader(c.stdin).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				password = strings.TrimRight(line, "\r\n")
			default:
				p, err := c.askPassword(email)
				if err != nil {
					return err
				}
				password = p
			}
			if !link && len(password) < oauthserver.MinPasswordLen {
				return fmt.Errorf("users create: the password must have at least %d characters", oauthserver.MinPasswordLen)
			}
			srv, cfg, done, err := c.openOAuth(cmd, mayWrite)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			u, err := srv.Store().CreateUser(ctx, tenant, email, password, list)
			if err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(c.stdout, "Created user %s (%s) in tenant %s with scopes %s.\n", u.Email, u.ID, u.Tenant, strings.Join(u.Scopes, " "))
			if link {
				secret, err := srv.Store().CreateLoginLink(ctx, u.ID, loginLinkTTL)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "Send them this link, valid once within 24 hours, to choose a password:\n%s/oauth/link?token=%s\n", cfg.PublicURL, secret)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's email, with which they sign in (required)")
	f.StringVar(&tenant, "tenant", "default", "tenant the user's calls belong to")
	f.StringVar(&scopes, "scopes", defaultOAuthScopes, "comma-separated scopes the user may grant: "+strings.Join(services.AllScopes, ", "))
	f.BoolVar(&admin, "admin", false, "add the admin scope")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.BoolVar(&link, "link", false, "print a one-time link with which the user chooses a password")
	_ = cmd.RegisterFlagCompletionFunc("scopes", cobra.FixedCompletions(services.AllScopes, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// askPassword reads the password twice from the terminal, without echoing it.
func (c *cli) askPassword(email string) (string, error) {
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("users create: no terminal to ask for the password on; use --password-stdin or --link")
	}
	fmt.Fprint(c.stderr, "Password for "+email+": ")
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(c.stderr, "Again: ")
	again, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", err
	}
	if string(first) != string(again) {
		return "", errors.New("users create: the passwords differ")
	}
	return string(first), nil
}

func (c *cli) usersListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the users, oldest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			srv, _, done, err := c.openOAuth(cmd, readOnly)
			if err != nil {
				return err
			}
			defer done()
			users, err := srv.Store().ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				type userJSON struct {
					ID        string    `json:"id"`
					Email     string    `json:"email"`
					Tenant    string    `json:"tenant"`
					Scopes    []string  `json:"scopes"`
					CreatedAt time.Time `json:"createdAt"`
				}
				out := make([]userJSON, 0, len(users))
				for _, u := range users {
					out = append(out, userJSON{u.ID, u.Email, u.Tenant, u.Scopes, u.Created})
				}
				return printJSON(c.stdout, out)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEMAIL\tTENANT\tSCOPES\tCREATED")
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Tenant, strings.Join(u.Scopes, " "), u.Created.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// oauthCommand manages the authorization server's clients, grants and signing keys.
func (c *cli) oauthCommand() *cobra.Command {
	return group(&cobra.Command{Use: "oauth", Short: "Manage the authorization server's clients, grants and signing keys"},
		group(&cobra.Command{Use: "clients", Short: "Clients made by the administrator"},
			c.oauthClientsCreateCommand(), c.oauthClientsAddRedirectCommand()),
		group(&cobra.Command{Use: "grants", Short: "The apps users let act for them"},
			c.oauthGrantsListCommand(), c.oauthGrantsRevokeCommand()),
		group(&cobra.Command{Use: "keys", Short: "The keys that sign access tokens"},
			c.oauthKeysRotateCommand()),
	)
}

func (c *cli) oauthClientsCreateCommand() *cobra.Command {
	var name, scopes string
	var redirects []string
	var public, gpt bool
	cmd := &cobra.Command{
		Use:   "create (--name N --redirect-uri URI [--redirect-uri URI...] [--public] | --gpt [--name N] [--redirect-uri URI]) [--scopes S]",
		Short: "Create a client and print its id and, unless public, its secret (once)",
		Long: `Create a client with the redirect URIs it may use, exactly.

--gpt makes a confidential client for a GPT Action and prints what the GPT builder asks for;
the builder shows its callback URL only once the client exists: add it with add-redirect.`,
		Example: `  jarvis oauth clients create --name Claude --redirect-uri https://claude.ai/api/mcp/auth_callback --public
  jarvis oauth clients create --gpt`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if gpt {
				if public {
					return usagef("oauth clients create: a GPT Action client has a secret; leave out --public")
				}
				if name == "" {
					name = "ChatGPT (GPT Action)"
				}
			}
			// A GPT's callback URL is shown by the builder only once the client exists, so a GPT
			// client may start without one.
			if name == "" || len(redirects) == 0 && !gpt {
				return usagef("oauth clients create: give --name and at least one --redirect-uri, or --gpt")
			}
			srv, cfg, done, err := c.openOAuth(cmd, mayWrite)
			if err != nil {
				return err
			}
			defer done()
			cl, secret, err := srv.CreateStaticClient(cmd.Context(), name, redirects, public, splitComma(scopes))
			if err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(c.stdout, "Created client %s (%s), redirect URIs %s.\n", cl.ID, cl.Name, strings.Join(cl.RedirectURIs, " "))
			if secret != "" {
				fmt.Fprintf(c.stdout, "Client secret (shown once): %s\n", secret)
			}
			if gpt {
				s := handlers.GPTOAuthSettings(cfg.PublicURL)
				fmt.Fprintf(c.stdout, "\nIn the GPT builder, Authentication > OAuth:\n  Client ID:          %s\n  Client Secret:      %s\n  Authorization URL:  %s\n  Token URL:          %s\n  Scope:              %s\n  Token Exchange Method: %s\n",
					cl.ID, secret, s["authorizationUrl"], s["tokenUrl"], s["scope"], s["tokenExchangeMethod"])
				fmt.Fprintf(c.stdout, "Save the GPT, copy the callback URL the builder then shows, and add it:\n  jarvis oauth clients add-redirect %s <callback URL>\n", cl.ID)
			}
			if !cfg.OAuthServer.On {
				fmt.Fprintln(c.stderr, "Note: JARVIS_OAUTH_SERVER is off; set it to on for the server to use this client.")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the name the consent page shows")
	f.StringArrayVar(&redirects, "redirect-uri", nil, "a redirect `URI` the client may use, exactly (repeatable)")
	f.BoolVar(&public, "public", false, "a public client (no secret; PKCE only)")
	f.BoolVar(&gpt, "gpt", false, "a confidential client for a GPT Action, with ChatGPT's callback")
	f.StringVar(&scopes, "scopes", defaultOAuthScopes, "scopes the client may ask for")
	_ = cmd.RegisterFlagCompletionFunc("scopes", cobra.FixedCompletions(services.AllScopes, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (c *cli) oauthClientsAddRedirectCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "add-redirect ID URI",
		Short:   "Add a redirect URI to a client, such as the callback the GPT builder shows",
		Example: "  jarvis oauth clients add-redirect cl_abc123 https://chatgpt.com/aip/g-123/oauth/callback",
		Args:    exactArgs(2, "a client id and a redirect URI"),
		RunE: func(cmd *cobra.Command, args []string) error {
			srv, _, done, err := c.openOAuth(cmd, readOnly)
			if err != nil {
				return err
			}
			defer done()
			cl, err := srv.AddRedirect(cmd.Context(), args[0], args[1])
			if err != nil {
				return serviceError(err)
			}
			fmt.Fprintf(c.stdout, "Client %s (%s) now has the redirect URIs %s.\n", cl.ID, cl.Name, strings.Join(cl.RedirectURIs, " "))
			return nil
		},
	}
}

func (c *cli) oauthGrantsListCommand() *cobra.Command {
	var email string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--user E] [--json]",
		Short: "List the live grants, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			srv, _, done, err := c.openOAuth(cmd, readOnly)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			userID := ""
			if email != "" {
				u, err := srv.Store().GetUserByEmail(ctx, email)
				if err != nil {
					return serviceError(err)
				}
				userID = u.ID
			}
			grants, err := srv.Store().ListGrants(ctx, "", userID)
			if err != nil {
				return err
			}
			if asJSON {
				// The names of listGrants's Grant, with the user's id for the email.
				type grantJSON struct {
					ID         string    `json:"id"`
					ClientID   string    `json:"clientId"`
					ClientName string    `json:"clientName"`
					Tenant     string    `json:"tenant"`
					UserID     string    `json:"userId"`
					Scopes     []string  `json:"scopes"`
					Resource   string    `json:"resource"`
					CreatedAt  time.Time `json:"createdAt"`
					LastUsedAt time.Time `json:"lastUsedAt"`
				}
				out := make([]grantJSON, 0, len(grants))
				for _, g := range grants {
					out = append(out, grantJSON{g.ID, g.ClientID, g.ClientName, g.Tenant, g.UserID, g.Scopes, g.Resource, g.Created, g.LastUsed})
				}
				return printJSON(c.stdout, out)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTENANT\tUSER\tCLIENT\tSCOPES\tRESOURCE\tCREATED\tLAST USED")
			for _, g := range grants {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Tenant, g.UserID, g.ClientName, strings.Join(g.Scopes, " "), g.Resource,
					g.Created.Format(time.RFC3339), g.LastUsed.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&email, "user", "", "only this user's grants (email)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *cli) oauthGrantsRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a grant: its refresh and access tokens are refused from then on",
		Args:  exactArgs(1, "a grant id, as grants list shows it"),
		RunE: func(cmd *cobra.Command, args []string) error {
			srv, _, done, err := c.openOAuth(cmd, readOnly)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			if _, err := srv.Store().GetGrant(ctx, args[0]); err != nil {
				return serviceError(err)
			}
			if err := srv.RevokeGrant(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Revoked grant %s: its refresh and access tokens are refused from now on.\n", args[0])
			return nil
		},
	}
}

func (c *cli) oauthKeysRotateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Make a new signing key in the data dir; the previous one stays in the JWKS until the next rotation",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config(cmd)
			if err != nil {
				return err
			}
			if cfg.OAuthServer.SigningKey != "" {
				return errors.New("oauth keys rotate: the signing key comes from JARVIS_OAUTH_SIGNING_KEY; rotate by moving it to JARVIS_OAUTH_PREVIOUS_SIGNING_KEY and giving a new one")
			}
			ks, err := oauthserver.RotateKeys(cfg.DataDir)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "New signing key %s in %s; restart the server to sign with it (the previous key stays in the JWKS).\n",
				ks.Current.KeyID, oauthserver.KeysPath(cfg.DataDir))
			return nil
		},
	}
}
