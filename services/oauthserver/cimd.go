package oauthserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aidawg/jarvis/services/ssrf"
)

// CIMDFetcher reads Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
// a client id that is an https URL names a JSON document, fetched through the SSRF guard, whose
// client_id must be that URL. Documents are cached as their Cache-Control allows.
type CIMDFetcher struct {
	guard *ssrf.Guard
	hosts []string // allowed hosts; "*" for any
	// MaxBytes caps a document.
	maxBytes int64
	now      func() time.Time

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	client  Client
	expires time.Time
}

// Cache bounds: a document is kept at least this long when it does not forbid caching, and at
// most the longer one whatever it says.
const (
	cimdMinAge = time.Minute
	cimdMaxAge = 24 * time.Hour
)

// NewCIMDFetcher fetches with guard (whose size cap bounds each document), from hosts only.
func NewCIMDFetcher(guard *ssrf.Guard, hosts []string, maxBytes int64, now func() time.Time) *CIMDFetcher {
	if now == nil {
		now = time.Now
	}
	return &CIMDFetcher{guard: guard, hosts: hosts, maxBytes: maxBytes, now: now, cache: map[string]cachedClient{}}
}

// Fetch returns the client a metadata document URL describes.
func (f *CIMDFetcher) Fetch(ctx context.Context, id string) (Client, error) {
	u, err := url.Parse(id)
	if err != nil {
		return Client{}, errors.New("the client_id is not a URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		// Only for a client on this machine (development and tests); the guard still decides
		// whether loopback may be reached.
	default:
		return Client{}, errors.New("the client_id must be an https URL")
	}
	if u.Path == "" || u.Path == "/" || u.Fragment != "" || u.User != nil || strings.Contains(u.Path, "/./") || strings.Contains(u.Path, "/../") {
		return Client{}, errors.New("the client_id must be an https URL with a path, without a fragment, credentials or dot segments")
	}
	if !slices.Contains(f.hosts, "*") && !slices.Contains(f.hosts, u.Hostname()) {
		return Client{}, fmt.Errorf("the host %s is not among the hosts whose metadata documents this server accepts (JARVIS_OAUTH_CIMD_HOSTS)", u.Hostname())
	}
	now := f.now()
	f.mu.Lock()
	c, ok := f.cache[id]
	f.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.client, nil
	}
	client, maxAge, err := f.fetch(ctx, id)
	if err != nil {
		return Client{}, err
	}
	if maxAge > 0 {
		f.mu.Lock()
		if len(f.cache) > 1000 {
			clear(f.cache)
		}
		f.cache[id] = cachedClient{client: client, expires: now.Add(maxAge)}
		f.mu.Unlock()
	}
	return client, nil
}

func (f *CIMDFetcher) fetch(ctx context.Context, id string) (Client, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return Client{}, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.guard.Do(ctx, req)
	if err != nil {
		if errors.Is(err, ssrf.ErrForbidden) {
			return Client{}, 0, fmt.Errorf("the document's address may not be fetched (%v)", err)
		}
		return Client{}, 0, fmt.Errorf("fetching it failed: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Client{}, 0, fmt.Errorf("fetching it answered status %d", resp.StatusCode)
	}
	if resp.ContentLength > f.maxBytes {
		return Client{}, 0, fmt.Errorf("it is larger than %d bytes", f.maxBytes)
	}
	body, err := f.guard.ReadLimited(resp.Body)
	if err != nil || int64(len(body)) > f.maxBytes {
		return Client{}, 0, fmt.Errorf("it is larger than %d bytes", f.maxBytes)
	}
	var doc ClientMetadata
	if err := json.Unmarshal(body, &doc); err != nil {
		return Client{}, 0, fmt.Errorf("it is not a JSON object: %v", err)
	}
	if doc.ClientID != id {
		return Client{}, 0, fmt.Errorf("its client_id %q is not its own URL", doc.ClientID)
	}
	if doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != AuthNone {
		return Client{}, 0, fmt.Errorf("its token_endpoint_auth_method %q is not supported; a metadata document client is public (none)", doc.TokenEndpointAuthMethod)
	}
	if doc.ClientSecret != "" {
		return Client{}, 0, errors.New("it holds a client_secret, which a metadata document may not")
	}
	if err := doc.check(); err != nil {
		return Client{}, 0, err
	}
	name := doc.ClientName
	if name == "" {
		name = id
	}
	return Client{ID: id, Name: name, RedirectURIs: doc.RedirectURIs, AuthMethod: AuthNone, Scopes: strings.Fields(doc.Scope), Origin: originCIMD},
		cacheAge(resp.Header), nil
}

// cacheAge is how long a response may be reused by its Cache-Control (RFC 9111), bounded.
func cacheAge(h http.Header) time.Duration {
	age := cimdMinAge
	for _, d := range strings.Split(strings.ToLower(h.Get("Cache-Control")), ",") {
		d = strings.TrimSpace(d)
		switch {
		case d == "no-store", d == "no-cache":
			return 0
		case strings.HasPrefix(d, "max-age="):
			n, err := strconv.Atoi(strings.TrimPrefix(d, "max-age="))
			if err != nil || n <= 0 {
				return 0
			}
			age = max(time.Duration(n)*time.Second, cimdMinAge)
		}
	}
	return min(age, cimdMaxAge)
}
