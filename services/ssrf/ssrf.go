// Package ssrf is the one guard every URL taken from a request goes through before Jarvis
// fetches or posts to it: http or https only, no private, loopback or link-local targets unless
// configured, bounded in time and size. The address is checked when the connection is made, so
// a name that resolves to a forbidden address (or changes to one) is refused too.
package ssrf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrForbidden is returned for URLs and addresses the guard refuses.
var ErrForbidden = errors.New("target not allowed")

// Guard checks URLs and makes HTTP clients that only reach allowed addresses.
type Guard struct {
	allow    []netip.Prefix
	timeout  time.Duration
	maxBytes int64
	client   *http.Client
}

// New returns a guard that also allows the addresses in allow (for example a test's loopback
// receiver), with a per-request timeout and a cap on response bodies.
func New(allow []netip.Prefix, timeout time.Duration, maxBytes int64) *Guard {
	g := &Guard{allow: allow, timeout: timeout, maxBytes: maxBytes}
	g.client = g.newClient()
	return g
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes or addresses.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR prefix nor an address", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// CheckURL accepts absolute http and https URLs with a host and no credentials, whose host, when
// it is an address, is allowed.
func (g *Guard) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL", ErrForbidden)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: only http and https URLs are allowed", ErrForbidden)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: the URL names no host", ErrForbidden)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: URLs with credentials are not allowed", ErrForbidden)
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := g.checkAddr(a); err != nil {
			return nil, err
		}
	} else if u.Hostname() == "localhost" {
		if err := g.checkAddr(netip.MustParseAddr("127.0.0.1")); err != nil {
			return nil, err
		}
	}
	return u, nil
}

var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// Allowlisted reports whether u names, as an address, a target the guard was configured to
// allow (localhost standing for 127.0.0.1), such as an operator's own receiver. Names are not
// resolved: what one resolves to when asked now need not be what a later connection reaches.
func (g *Guard) Allowlisted(u *url.URL) bool {
	host := u.Hostname()
	if host == "localhost" {
		host = "127.0.0.1"
	}
	a, err := netip.ParseAddr(host)
	return err == nil && g.allowed(a)
}

func (g *Guard) allowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range g.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (g *Guard) checkAddr(a netip.Addr) error {
	a = a.Unmap()
	if g.allowed(a) {
		return nil
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || sharedAddressSpace.Contains(a) {
		return fmt.Errorf("%w: %s is a private, loopback or link-local address", ErrForbidden, a)
	}
	return nil
}

// Client is an HTTP client whose every connection, redirects included, goes only to allowed
// addresses and ends within the guard's timeout.
func (g *Guard) Client() *http.Client { return g.client }

func (g *Guard) newClient() *http.Client {
	dialer := &net.Dialer{
		Timeout: g.timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrForbidden, address)
			}
			return g.checkAddr(ap.Addr())
		},
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would hide the real target from the check
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   g.timeout,
		ResponseHeaderTimeout: g.timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   g.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			_, err := g.CheckURL(req.URL.String())
			return err
		},
	}
}

// ReadLimited reads at most the guard's byte cap from r, failing when there is more.
func (g *Guard) ReadLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, g.maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > g.maxBytes {
		return nil, fmt.Errorf("response larger than %d bytes", g.maxBytes)
	}
	return b, nil
}

// Do sends req with the guarded client after checking its URL.
func (g *Guard) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	if _, err := g.CheckURL(req.URL.String()); err != nil {
		return nil, err
	}
	return g.client.Do(req.WithContext(ctx))
}
