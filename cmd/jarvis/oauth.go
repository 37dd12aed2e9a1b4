package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/aidawg/jarvis/app"
	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/oauthserver"
)

const usersUsage = `usage:
  jarvis users create --email E [--tenant T] [--scopes actions:read,actions:write,jobs] [--admin]
                      [--password-stdin | --link]
      the password is asked for on the terminal, read from standard input with --password-stdin,
      or chosen by the user through the one-time link --link prints (valid 24h)
  jarvis users list [--json]
`

const oauthUsage = `usage:
  jarvis oauth clients create --name N --redirect-uri URI [--redirect-uri URI…] [--public]
                              [--scopes actions:read,actions:write,jobs]
  jarvis oauth clients create --gpt [--name N] [--redirect-uri URI]
                              a confidential client for a GPT Action
  jarvis oauth clients add-redirect <id> <URI>   add the callback the GPT builder shows
  jarvis oauth grants list [--user E] [--json]
  jarvis oauth grants revoke <id>
  jarvis oauth keys rotate                       a new signing key in the data dir; the previous
                                                 one stays in the JWKS until the next rotation
`

// repeated collects a flag given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func openOAuth(ctx context.Context, lookup func(string) (string, bool)) (*oauthserver.Server, app.Config, func(), error) {
	cfg, err := app.LoadConfig(lookup)
	if err != nil {
		return nil, app.Config{}, nil, err
	}
	db, _, err := app.OpenDatabase(ctx, cfg)
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

func detail(err error) error {
	if se, ok := services.AsError(err); ok {
		return errors.New(se.Detail)
	}
	return err
}

// usersCommand manages the users who sign in on the login page.
func usersCommand(args []string, lookup func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usersUsage)
		return errors.New("users: name a subcommand")
	}
	ctx := context.Background()
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("users create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		email := fs.String("email", "", "the user's email, with which they sign in (required)")
		tenant := fs.String("tenant", "default", "tenant the user's calls belong to")
		scopes := fs.String("scopes", "actions:read,actions:write,jobs", "comma-separated scopes the user may grant: "+strings.Join(services.AllScopes, ", "))
		admin := fs.Bool("admin", false, "add the admin scope")
		fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
		link := fs.Bool("link", false, "print a one-time link with which the user chooses a password")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *email == "" {
			return errors.New("users create: --email is required")
		}
		if *fromStdin && *link {
			return errors.New("users create: give --password-stdin or --link, not both")
		}
		list := splitComma(*scopes)
		if *admin {
			list = append(list, services.ScopeAdmin)
		}
		password := ""
		switch {
		case *link:
		case *fromStdin:
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			password = strings.TrimRight(line, "\r\n")
		default:
			f, ok := stdin.(*os.File)
			if !ok || !term.IsTerminal(int(f.Fd())) {
				return errors.New("users create: no terminal to ask for the password on; use --password-stdin or --link")
			}
			fmt.Fprint(stderr, "Password for "+*email+": ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return err
			}
			fmt.Fprint(stderr, "Again: ")
			again, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return err
			}
			if string(b) != string(again) {
				return errors.New("users create: the passwords differ")
			}
			password = string(b)
		}
		if !*link && len(password) < oauthserver.MinPasswordLen {
			return fmt.Errorf("users create: the password must have at least %d characters", oauthserver.MinPasswordLen)
		}
		srv, cfg, done, err := openOAuth(ctx, lookup)
		if err != nil {
			return err
		}
		defer done()
		u, err := srv.Store().CreateUser(ctx, *tenant, *email, password, list)
		if err != nil {
			return detail(err)
		}
		fmt.Fprintf(stdout, "Created user %s (%s) in tenant %s with scopes %s.\n", u.Email, u.ID, u.Tenant, strings.Join(u.Scopes, " "))
		if *link {
			secret, err := srv.Store().CreateLoginLink(ctx, u.ID, 24*time.Hour)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Send them this link, valid once within 24 hours, to choose a password:\n%s/oauth/link?token=%s\n", cfg.PublicURL, secret)
		}
		return nil
	case "list":
		fs := flag.NewFlagSet("users list", flag.ContinueOnError)
		fs.SetOutput(stderr)
		asJSON := fs.Bool("json", false, "print JSON")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		srv, _, done, err := openOAuth(ctx, lookup)
		if err != nil {
			return err
		}
		defer done()
		users, err := srv.Store().ListUsers(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			type row struct {
				ID, Email, Tenant string
				Scopes            []string
				Created           time.Time
			}
			out := []row{}
			for _, u := range users {
				out = append(out, row{u.ID, u.Email, u.Tenant, u.Scopes, u.Created})
			}
			return json.NewEncoder(stdout).Encode(out)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tEMAIL\tTENANT\tSCOPES\tCREATED")
		for _, u := range users {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Tenant, strings.Join(u.Scopes, " "), u.Created.Format(time.RFC3339))
		}
		return w.Flush()
	}
	fmt.Fprint(stderr, usersUsage)
	return fmt.Errorf("users: unknown subcommand %q", args[0])
}

// oauthCommand manages the authorization server's clients, grants and keys.
func oauthCommand(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, oauthUsage)
		return errors.New("oauth: name a subcommand")
	}
	ctx := context.Background()
	switch args[0] + " " + args[1] {
	case "clients create":
		fs := flag.NewFlagSet("oauth clients create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		name := fs.String("name", "", "the name the consent page shows")
		var redirects repeated
		fs.Var(&redirects, "redirect-uri", "a redirect URI the client may use, exactly (repeatable)")
		public := fs.Bool("public", false, "a public client (no secret; PKCE only)")
		gpt := fs.Bool("gpt", false, "a confidential client for a GPT Action, with ChatGPT's callback")
		scopes := fs.String("scopes", "actions:read,actions:write,jobs", "scopes the client may ask for")
		if err := fs.Parse(args[2:]); err != nil {
			return err
		}
		if *gpt {
			if *public {
				return errors.New("oauth clients create: a GPT Action client has a secret; leave out --public")
			}
			if *name == "" {
				*name = "ChatGPT (GPT Action)"
			}
		}
		// A GPT's callback URL is shown by the builder only once the client exists, so a GPT
		// client may start without one.
		if *name == "" || len(redirects) == 0 && !*gpt {
			return errors.New("oauth clients create: give --name and at least one --redirect-uri, or --gpt")
		}
		srv, cfg, done, err := openOAuth(ctx, lookup)
		if err != nil {
			return err
		}
		defer done()
		c, secret, err := srv.CreateStaticClient(ctx, *name, redirects, *public, splitComma(*scopes))
		if err != nil {
			return detail(err)
		}
		fmt.Fprintf(stdout, "Created client %s (%s), redirect URIs %s.\n", c.ID, c.Name, strings.Join(c.RedirectURIs, " "))
		if secret != "" {
			fmt.Fprintf(stdout, "Client secret (shown once): %s\n", secret)
		}
		if *gpt {
			s := handlers.GPTOAuthSettings(cfg.PublicURL)
			fmt.Fprintf(stdout, "\nIn the GPT builder, Authentication > OAuth:\n  Client ID:          %s\n  Client Secret:      %s\n  Authorization URL:  %s\n  Token URL:          %s\n  Scope:              %s\n  Token Exchange Method: %s\n",
				c.ID, secret, s["authorizationUrl"], s["tokenUrl"], s["scope"], s["tokenExchangeMethod"])
			fmt.Fprintf(stdout, "Save the GPT, copy the callback URL the builder then shows, and add it:\n  jarvis oauth clients add-redirect %s <callback URL>\n", c.ID)
		}
		if !cfg.OAuthServer.On {
			fmt.Fprintln(stderr, "Note: JARVIS_OAUTH_SERVER is off; set it to on for the server to use this client.")
		}
		return nil
	case "clients add-redirect":
		if len(args) != 4 {
			return errors.New("usage: jarvis oauth clients add-redirect <id> <URI>")
		}
		srv, _, done, err := openOAuth(ctx, lookup)
		if err != nil {
			return err
		}
		defer done()
		c, err := srv.AddRedirect(ctx, args[2], args[3])
		if err != nil {
			return detail(err)
		}
		fmt.Fprintf(stdout, "Client %s (%s) now has the redirect URIs %s.\n", c.ID, c.Name, strings.Join(c.RedirectURIs, " "))
		return nil
	case "grants list":
		fs := flag.NewFlagSet("oauth grants list", flag.ContinueOnError)
		fs.SetOutput(stderr)
		email := fs.String("user", "", "only this user's grants (email)")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := fs.Parse(args[2:]); err != nil {
			return err
		}
		srv, _, done, err := openOAuth(ctx, lookup)
		if err != nil {
			return err
		}
		defer done()
		userID := ""
		if *email != "" {
			u, err := srv.Store().GetUserByEmail(ctx, *email)
			if err != nil {
				return detail(err)
			}
			userID = u.ID
		}
		grants, err := srv.Store().ListGrants(ctx, "", userID)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(grants)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tTENANT\tUSER\tCLIENT\tSCOPES\tRESOURCE\tCREATED\tLAST USED")
		for _, g := range grants {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Tenant, g.UserID, g.ClientName, strings.Join(g.Scopes, " "), g.Resource,
				g.Created.Format(time.RFC3339), g.LastUsed.Format(time.RFC3339))
		}
		return w.Flush()
	case "grants revoke":
		if len(args) != 3 {
			return errors.New("usage: jarvis oauth grants revoke <id>")
		}
		srv, _, done, err := openOAuth(ctx, lookup)
		if err != nil {
			return err
		}
		defer done()
		if _, err := srv.Store().GetGrant(ctx, args[2]); err != nil {
			return detail(err)
		}
		if err := srv.RevokeGrant(ctx, args[2]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Revoked grant %s: its refresh and access tokens are refused from now on.\n", args[2])
		return nil
	case "keys rotate":
		cfg, err := app.LoadConfig(lookup)
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
		fmt.Fprintf(stdout, "New signing key %s in %s; restart the server to sign with it (the previous key stays in the JWKS).\n",
			ks.Current.KeyID, oauthserver.KeysPath(cfg.DataDir))
		return nil
	}
	fmt.Fprint(stderr, oauthUsage)
	return fmt.Errorf("oauth: unknown subcommand %q", strings.Join(args[:2], " "))
}
