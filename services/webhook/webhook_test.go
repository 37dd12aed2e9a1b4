package webhook

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example from the Standard Webhooks specification.
func TestSignMatchesSpecificationExample(t *testing.T) {
	s, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	h := http.Header{}
	require.NoError(t, s.SetHeaders(h, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)))
	assert.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", h.Get(HeaderSignature))
	assert.Equal(t, "msg_p5jXN8AQM9LWM0D4loKWxJek", h.Get(HeaderID))
	assert.Equal(t, "1614265330", h.Get(HeaderTimestamp))
}

func TestVerify(t *testing.T) {
	s := NewSecret()
	parsed, err := ParseSecret(s.String())
	require.NoError(t, err)
	now := time.Now()
	body := []byte(`{"ok":true}`)
	h := http.Header{}
	require.NoError(t, s.SetHeaders(h, "msg_1", now, body))
	assert.NoError(t, parsed.Verify(h, body))
	assert.Error(t, parsed.Verify(h, []byte(`{"ok":false}`)), "tampered body")
	assert.Error(t, NewSecret().Verify(h, body), "other secret")
	stale := http.Header{}
	require.NoError(t, s.SetHeaders(stale, "msg_1", now.Add(-10*time.Minute), body))
	assert.Error(t, parsed.Verify(stale, body), "stale")
	_, err = ParseSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	assert.Error(t, err)
	assert.Error(t, Secret(nil).SetHeaders(http.Header{}, "msg_1", now, body), "no key")
}
