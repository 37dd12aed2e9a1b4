package oauthserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// CSRFToken is the token the pages' forms carry for a browser, bound to the value of its
// cookie (the session, or the pre-login cookie): a form posted from elsewhere cannot know it.
func (s *Server) CSRFToken(binding string) string {
	m := hmac.New(sha256.New, s.csrf)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether token is the CSRF token of binding.
func (s *Server) CheckCSRF(binding, token string) bool {
	return binding != "" && token != "" && hmac.Equal([]byte(s.CSRFToken(binding)), []byte(token))
}
