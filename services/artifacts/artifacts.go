// Package artifacts stores the files jobs produce and signs the links that download them. The
// Store interface is what object storage would implement; Files keeps them under the data dir.
package artifacts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services"
)

// Store keeps artifact bytes by id.
type Store interface {
	Put(ctx context.Context, id string, r io.Reader) (int64, error)
	Open(ctx context.Context, id string) (File, error)
	Delete(ctx context.Context, id string) error
}

// File is an artifact opened for reading, seekable so that ranges can be served.
type File interface {
	io.ReadSeekCloser
	ModTime() time.Time
}

// ErrNotFound means no artifact has that id.
var ErrNotFound = &services.Error{Code: services.CodeNotFound,
	Detail: "This file no longer exists: finished jobs and their files are deleted after the retention period."}

// Files stores artifacts as files in a directory.
type Files struct{ dir string }

// NewFiles stores artifacts under dir, creating it.
func NewFiles(dir string) (*Files, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create artifact dir: %w", err)
	}
	return &Files{dir: dir}, nil
}

func (f *Files) path(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, `/\.`) {
		return "", ErrNotFound
	}
	return filepath.Join(f.dir, id), nil
}

// Put writes the artifact atomically: readers never see a partial file.
func (f *Files) Put(_ context.Context, id string, r io.Reader) (int64, error) {
	p, err := f.path(id)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(f.dir, ".tmp-*")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}

type osFile struct {
	*os.File
	mod time.Time
}

func (o osFile) ModTime() time.Time { return o.mod }

// Open opens an artifact for reading.
func (f *Files) Open(_ context.Context, id string) (File, error) {
	p, err := f.path(id)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	return osFile{file, st.ModTime()}, nil
}

// Delete removes an artifact; a missing one is not an error.
func (f *Files) Delete(_ context.Context, id string) error {
	p, err := f.path(id)
	if err != nil {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Signer makes and checks expiring download links. A link needs no credentials, so that a
// ChatGPT user can click it; the HMAC over the id and expiry is the authority.
type Signer struct {
	key     []byte
	baseURL string // public URL of the server, without a trailing slash
	ttl     time.Duration
}

// NewSigner signs links to baseURL/artifacts/{id} valid for ttl.
func NewSigner(key []byte, baseURL string, ttl time.Duration) *Signer {
	return &Signer{key: key, baseURL: strings.TrimRight(baseURL, "/"), ttl: ttl}
}

// Path is where artifacts are downloaded, relative to the server's root.
const Path = "/artifacts/"

// URL is a signed link to the artifact and when it expires.
func (s *Signer) URL(id string, now time.Time) (string, time.Time) {
	exp := now.Add(s.ttl).Truncate(time.Second)
	q := url.Values{}
	q.Set("expires", strconv.FormatInt(exp.Unix(), 10))
	q.Set("sig", s.sign(id, exp.Unix()))
	return s.baseURL + Path + url.PathEscape(id) + "?" + q.Encode(), exp
}

// Own reports whether rawURL is one of this server's download links, and if it is, the
// artifact it names once its signature and expiry check out. A link that is ours but fails the
// check is an error; a link that is not ours is ("", false, nil).
func (s *Signer) Own(rawURL string, now time.Time) (id string, ours bool, err error) {
	rest, ok := strings.CutPrefix(rawURL, s.baseURL+Path)
	if !ok {
		return "", false, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", true, ErrBadSignature
	}
	id, err = url.PathUnescape(strings.SplitN(rest, "?", 2)[0])
	if err != nil || id == "" {
		return "", true, ErrBadSignature
	}
	q := u.Query()
	if err := s.Check(id, q.Get("expires"), q.Get("sig"), now); err != nil {
		return "", true, err
	}
	return id, true, nil
}

// NewID names a new artifact.
func NewID() string { return "art_" + rand.Text() }

// ErrBadSignature and ErrExpired are why a link is refused.
var (
	ErrBadSignature = &services.Error{Code: services.CodeForbidden,
		Detail: "This download link is not valid. Call getJobStatus for the job to get a fresh link."}
	ErrExpired = &services.Error{Code: services.CodeForbidden,
		Detail: "This download link has expired. Call getJobStatus for the job to get a fresh link."}
)

// Check verifies a link's expires and sig for id.
func (s *Signer) Check(id, expires, sig string, now time.Time) error {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal([]byte(sig), []byte(s.sign(id, exp))) {
		return ErrBadSignature
	}
	if now.Unix() > exp {
		return ErrExpired
	}
	return nil
}

func (s *Signer) sign(id string, exp int64) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	mac.Write([]byte(strconv.FormatInt(exp, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

// LoadOrCreateKey returns the signing key in path, making a random one on first use, so that
// links stay valid across restarts of a single server. Replicas must share a configured key.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 32 {
			return nil, fmt.Errorf("%s does not hold a hex key of at least 32 bytes", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}
