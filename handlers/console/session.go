package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cookie names. The __Host- prefix makes the browser refuse the cookie unless it is Secure,
// for this host only and for path /, so that no other host or path can plant or read it. A
// browser drops a __Host- cookie without Secure, so over plain http (allowed only on a
// loopback address, see New) the cookies go without the prefix.
const (
	sessionCookie = "__Host-jarvis_console"
	loginCookie   = "__Host-jarvis_login"
	plainSession  = "jarvis_console"
	plainLogin    = "jarvis_login"
)

// session is a signed-in operator: the admin key they signed in with, until when.
type session struct {
	ID      string
	KeyID   string
	Expires time.Time
}

// sessions signs and reads session cookies. A cookie is "<id>.<key id>.<expiry>.<mac>": the
// HMAC-SHA256 of the rest under the console's key. Nothing about a session is stored but the
// ids of those signed out before they expired, which this process refuses until then.
type sessions struct {
	key    []byte
	ttl    time.Duration
	secure bool
	now    func() time.Time

	mu     sync.Mutex
	ended  map[string]time.Time // session id → its expiry
	sweepN int
}

func (s *sessions) names() (session, login string) {
	if s.secure {
		return sessionCookie, loginCookie
	}
	return plainSession, plainLogin
}

func (s *sessions) mac(parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strings.Join(parts, ".")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteStrictMode}
}

// issue makes the cookie of a new session for keyID.
func (s *sessions) issue(keyID string) (*http.Cookie, session) {
	sess := session{ID: randomID(), KeyID: keyID, Expires: s.now().Add(s.ttl).Truncate(time.Second).UTC()}
	exp := strconv.FormatInt(sess.Expires.Unix(), 10)
	name, _ := s.names()
	return s.cookie(name, strings.Join([]string{sess.ID, keyID, exp, s.mac("session", sess.ID, keyID, exp)}, "."), int(s.ttl.Seconds())), sess
}

var errNoSession = errors.New("no valid session")

// read checks the session cookie of r.
func (s *sessions) read(r *http.Request) (session, error) {
	name, _ := s.names()
	c, err := r.Cookie(name)
	if err != nil {
		return session{}, errNoSession
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 {
		return session{}, errNoSession
	}
	if !hmac.Equal([]byte(parts[3]), []byte(s.mac("session", parts[0], parts[1], parts[2]))) {
		return session{}, errNoSession
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || !s.now().Before(time.Unix(exp, 0)) {
		return session{}, errNoSession
	}
	s.mu.Lock()
	_, ended := s.ended[parts[0]]
	s.mu.Unlock()
	if ended {
		return session{}, errNoSession
	}
	return session{ID: parts[0], KeyID: parts[1], Expires: time.Unix(exp, 0).UTC()}, nil
}

// end refuses the session from now on.
func (s *sessions) end(sess session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended[sess.ID] = sess.Expires
	s.sweepN++
	if s.sweepN%64 == 0 {
		now := s.now()
		for id, exp := range s.ended {
			if now.After(exp) {
				delete(s.ended, id)
			}
		}
	}
}

// csrf is the token the forms of a session carry: bound to the session, so that a token seen
// in one session is worthless in another.
func (s *sessions) csrf(sess session) string { return s.mac("csrf", sess.ID) }

// loginNonce is the sign-in form's own CSRF binding: a random value in a short-lived cookie,
// whose MAC the form carries.
func (s *sessions) loginNonce(r *http.Request) (nonce string, set *http.Cookie) {
	_, name := s.names()
	if c, err := r.Cookie(name); err == nil && len(c.Value) >= 20 {
		return c.Value, nil
	}
	nonce = randomID()
	return nonce, s.cookie(name, nonce, 3600)
}

func (s *sessions) loginToken(nonce string) string { return s.mac("login", nonce) }

func (s *sessions) checkLogin(r *http.Request, token string) bool {
	_, name := s.names()
	c, err := r.Cookie(name)
	return err == nil && token != "" && hmac.Equal([]byte(token), []byte(s.loginToken(c.Value)))
}
