// Package webhook signs and verifies callbacks per the Standard Webhooks specification, with
// its reference Go library: headers webhook-id, webhook-timestamp and webhook-signature, the
// latter "v1," followed by the base64 HMAC-SHA256 of "id.timestamp.body" under a secret written
// "whsec_" plus base64.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const secretPrefix = "whsec_"

// Headers of a signed delivery.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

// Secret is a signing key.
type Secret []byte

// ParseSecret reads a "whsec_" secret. The library takes any non-empty key; Jarvis wants one
// long enough to be a key.
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

func (s Secret) webhook() (*standardwebhooks.Webhook, error) {
	return standardwebhooks.NewWebhookRaw(s)
}

// SetHeaders signs body and sets the three webhook headers on h.
func (s Secret) SetHeaders(h http.Header, id string, ts time.Time, body []byte) error {
	wh, err := s.webhook()
	if err != nil {
		return err
	}
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		return err
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// Verify checks a delivery's headers against body, as a receiver would: any one of the
// space-separated v1 signatures may match, and the timestamp must be within the library's
// five minutes of now.
func (s Secret) Verify(h http.Header, body []byte) error {
	wh, err := s.webhook()
	if err != nil {
		return err
	}
	return wh.Verify(body, h)
}
