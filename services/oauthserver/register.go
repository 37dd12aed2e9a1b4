package oauthserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ClientMetadata is a client's registration metadata (RFC 7591 section 2), as sent to the
// registration endpoint or published in a Client ID Metadata Document.
type ClientMetadata struct {
	ClientID                string   `json:"client_id,omitempty"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
	ApplicationType         string   `json:"application_type,omitempty"`
}

func (m ClientMetadata) check() error { return errors.Join(m.checkRedirects(), m.checkOthers()) }

func (m ClientMetadata) checkRedirects() error {
	var errs []error
	if len(m.RedirectURIs) == 0 || len(m.RedirectURIs) > 20 {
		errs = append(errs, errors.New("redirect_uris must list 1 to 20 URIs"))
	}
	for _, r := range m.RedirectURIs {
		if err := CheckRedirectURI(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m ClientMetadata) checkOthers() error {
	var errs []error
	for _, g := range m.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			errs = append(errs, fmt.Errorf("grant type %q is not supported; use authorization_code and refresh_token", g))
		}
	}
	for _, r := range m.ResponseTypes {
		if r != "code" {
			errs = append(errs, fmt.Errorf("response type %q is not supported; use code", r))
		}
	}
	if len(m.ClientName) > 200 {
		errs = append(errs, errors.New("client_name must be at most 200 characters"))
	}
	for _, sc := range strings.Fields(m.Scope) {
		if !slices.Contains(DefaultScopes, sc) && sc != "admin" {
			errs = append(errs, fmt.Errorf("scope %q is not one of actions:read actions:write jobs admin", sc))
		}
	}
	return errors.Join(errs...)
}

// Registered is the registration endpoint's answer (RFC 7591 section 3.2.1).
type Registered struct {
	ClientMetadata
	ClientIDIssuedAt      int64 `json:"client_id_issued_at"`
	ClientSecretExpiresAt int64 `json:"client_secret_expires_at"`
}

// Register adds a client by dynamic registration (RFC 7591).
func (s *Server) Register(ctx context.Context, m ClientMetadata) (Registered, error) {
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = AuthBasic
	}
	if !slices.Contains([]string{AuthNone, AuthBasic, AuthPost}, m.TokenEndpointAuthMethod) {
		return Registered{}, oauthErr("invalid_client_metadata", "token_endpoint_auth_method %q is not supported; use none, client_secret_basic or client_secret_post.", m.TokenEndpointAuthMethod)
	}
	if err := m.checkRedirects(); err != nil {
		return Registered{}, oauthErr("invalid_redirect_uri", "%s.", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if err := m.checkOthers(); err != nil {
		return Registered{}, oauthErr("invalid_client_metadata", "%s.", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	name := m.ClientName
	if name == "" {
		name = "Unnamed client"
	}
	c, secret, err := s.store.CreateClient(ctx, Client{Name: name, RedirectURIs: m.RedirectURIs, AuthMethod: m.TokenEndpointAuthMethod,
		Scopes: strings.Fields(m.Scope), Origin: originDCR})
	if err != nil {
		return Registered{}, err
	}
	out := Registered{ClientMetadata: m, ClientIDIssuedAt: c.Created.Unix()}
	out.ClientID, out.ClientSecret, out.ClientName = c.ID, secret, name
	if len(out.GrantTypes) == 0 {
		out.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	if len(out.ResponseTypes) == 0 {
		out.ResponseTypes = []string{"code"}
	}
	return out, nil
}

// CreateStaticClient registers a client from the CLI.
func (s *Server) CreateStaticClient(ctx context.Context, name string, redirectURIs []string, public bool, scopes []string) (Client, string, error) {
	method := AuthBasic
	if public {
		method = AuthNone
	}
	m := ClientMetadata{ClientName: name, RedirectURIs: redirectURIs, Scope: strings.Join(scopes, " ")}
	if err := m.checkOthers(); err != nil {
		return Client{}, "", err
	}
	if len(redirectURIs) > 0 {
		if err := m.checkRedirects(); err != nil {
			return Client{}, "", err
		}
	}
	return s.store.CreateClient(ctx, Client{Name: name, RedirectURIs: redirectURIs, AuthMethod: method, Scopes: scopes, Origin: originCLI})
}

// AddRedirect adds a redirect URI to a client made by the CLI, such as the callback a GPT
// builder shows once the GPT's client exists.
func (s *Server) AddRedirect(ctx context.Context, clientID, uri string) (Client, error) {
	c, err := s.store.GetClient(ctx, clientID)
	if err != nil {
		return Client{}, err
	}
	if c.Origin != originCLI {
		return Client{}, fmt.Errorf("client %s registered itself; only clients made with jarvis oauth clients create take redirect URIs this way", clientID)
	}
	if err := CheckRedirectURI(uri); err != nil {
		return Client{}, err
	}
	if !slices.Contains(c.RedirectURIs, uri) {
		c.RedirectURIs = append(c.RedirectURIs, uri)
	}
	if err := s.store.SetRedirects(ctx, c.ID, c.RedirectURIs); err != nil {
		return Client{}, err
	}
	return c, nil
}
