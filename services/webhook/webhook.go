// Package webhook signs and verifies callbacks per the Standard Webhooks specification:
// headers webhook-id, webhook-timestamp and webhook-signature, the latter "v1," followed by the
// base64 HMAC-SHA256 of "id.timestamp.body" under a secret written "whsec_" plus base64.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const secretPrefix = "whsec_"

// Headers of a signed delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Secret is a signing key.
type Secret []byte

// ParseSecret reads a "whsec_" secret.
func ParseSecret(s string) (Secret, error) {
	b64, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, errors.New(`webhook secret must start with "whsec_"`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < 24 {
		return nil, errors.New("webhook secret must be whsec_ followed by base64 of at least 24 bytes")
	}
	return Secret(key), nil
}

// NewSecret makes a random secret.
func NewSecret() Secret {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return Secret(key)
}

// String writes the secret in its "whsec_" form.
func (s Secret) String() string { return secretPrefix + base64.StdEncoding.EncodeToString(s) }

// Sign returns the webhook-signature value for a delivery.
func (s Secret) Sign(id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, s)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SetHeaders signs body and sets the three webhook headers on h.
func (s Secret) SetHeaders(h http.Header, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, s.Sign(id, ts, body))
}

// Verify checks a delivery's headers against body, rejecting timestamps further than tolerance
// from now. Any one of the space-separated v1 signatures may match.
func (s Secret) Verify(h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("bad webhook-timestamp %q", tsText)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return errors.New("webhook-timestamp outside the tolerance")
	}
	want := s.Sign(id, ts, body)
	for _, sig := range strings.Fields(sigs) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("no matching signature")
}
