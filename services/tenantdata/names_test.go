package tenantdata

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The CLI and the admin endpoint name kinds and formats as the README does.
func TestKindAndFormatNames(t *testing.T) {
	for _, k := range []Kind{KindMetrics, KindCampaigns, KindCampaignResults, KindListeners, KindListenerActivity, KindFeedback, KindCompetitors} {
		got, ok := ParseKind(string(k))
		assert.True(t, ok, k)
		assert.Equal(t, k, got)
	}
	_, ok := ParseKind("playlists")
	assert.False(t, ok)
	for in, want := range map[string]Format{"csv": CSV, "CSV": CSV, "jsonl": JSONL, "ndjson": JSONL} {
		got, ok := ParseFormat(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	_, ok = ParseFormat("xlsx")
	assert.False(t, ok)
}
