package music

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/ssrf"
)

// OwnLinks tells this server's own download links from others and opens the files they name,
// so that audio Jarvis made is read from its store rather than fetched over HTTP.
type OwnLinks interface {
	Own(rawURL string, now time.Time) (id string, ours bool, err error)
}

// Files opens stored artifacts.
type Files interface {
	Open(ctx context.Context, id string) (artifacts.File, error)
}

// Source opens the audio a command points at: Jarvis's own download links from the artifact
// store, any other http or https link through the SSRF guard, whose client bounds the whole
// download in time; at most MaxBytes are read either way.
type Source struct {
	Guard    *ssrf.Guard
	MaxBytes int64
	Links    OwnLinks // nil when the module runs without Jarvis's store (jarvis aidawg serve)
	Files    Files
}

// SourceError is why the audio at a link could not be read; its message is written for the
// caller who gave the link.
type SourceError struct {
	Message string
	Err     error
}

func (e *SourceError) Error() string { return e.Message }
func (e *SourceError) Unwrap() error { return e.Err }

func sourceErrorf(err error, format string, args ...any) *SourceError {
	return &SourceError{Message: fmt.Sprintf(format, args...), Err: err}
}

// Open starts reading the audio at rawURL. The reader fails with a *SourceError once more than
// MaxBytes arrive.
func (s *Source) Open(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	if s.Links != nil {
		id, ours, err := s.Links.Own(rawURL, time.Now())
		switch {
		case ours && err != nil:
			return nil, sourceErrorf(err, "%s", detailOf(err))
		case ours:
			f, err := s.Files.Open(ctx, id)
			if err != nil {
				return nil, sourceErrorf(err, "The file behind this Jarvis download link no longer exists; generate the track again.")
			}
			return s.limit(f), nil
		}
	}
	if _, err := s.Guard.CheckURL(rawURL); err != nil {
		return nil, sourceErrorf(err, "Jarvis may not fetch this link (%v). Give a public http or https link to the audio.", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, sourceErrorf(err, "The link is not a URL Jarvis can fetch.")
	}
	resp, err := s.Guard.Client().Do(req)
	if err != nil {
		if errors.Is(err, ssrf.ErrForbidden) {
			return nil, sourceErrorf(err, "Jarvis may not fetch this link: its address is private or local. Give a public http or https link to the audio.")
		}
		return nil, sourceErrorf(err, "The audio could not be fetched from the link: %s. Check that it is public and try again.", fetchFailure(err))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, sourceErrorf(nil, "The link answered HTTP %d instead of the audio. Check that it is public and not expired.", resp.StatusCode)
	}
	if resp.ContentLength > s.MaxBytes {
		resp.Body.Close()
		return nil, s.tooLarge()
	}
	return s.limit(resp.Body), nil
}

// fetchFailure says why a fetch failed in terms of the link, leaving out addresses and
// resolvers of Jarvis's own network.
func fetchFailure(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "its host name does not resolve"
	case errors.As(err, &dnsErr):
		return "its host name could not be looked up"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "it did not answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "its server refused the connection"
	case strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:"):
		return "its TLS certificate is not valid"
	case strings.Contains(err.Error(), "redirect"):
		return "it redirects too often or to a link Jarvis may not fetch"
	}
	return "the connection failed"
}

func (s *Source) tooLarge() *SourceError {
	return sourceErrorf(nil, "The audio is larger than %d MB, the most this server reads. Send a shorter or compressed file.", s.MaxBytes>>20)
}

func (s *Source) limit(rc io.ReadCloser) io.ReadCloser {
	return &limitedBody{rc: rc, left: s.MaxBytes, tooLarge: s.tooLarge}
}

// limitedBody fails, rather than ends, once the limit is passed, so that a cut file is never
// analysed as if it were whole.
type limitedBody struct {
	rc       io.ReadCloser
	left     int64
	tooLarge func() *SourceError
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

func detailOf(err error) string {
	if se, ok := services.AsError(err); ok {
		return se.Detail
	}
	return err.Error()
}

// Check says whether Open may fetch rawURL, without fetching it: one of Jarvis's own download
// links, or a URL the SSRF guard accepts as written (its address is checked again on connect).
func (s *Source) Check(rawURL string) error {
	if s.Links != nil {
		if _, ours, err := s.Links.Own(rawURL, time.Now()); ours {
			if err != nil {
				return errors.New(strings.TrimSuffix(detailOf(err), "."))
			}
			return nil
		}
	}
	_, err := s.Guard.CheckURL(rawURL)
	return err
}
