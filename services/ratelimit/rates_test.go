package ratelimit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
)

func TestParseRate(t *testing.T) {
	good := map[string]services.Rate{
		"10":      {Limit: 10, Period: time.Hour},
		"0":       {Limit: 0, Period: time.Hour},
		"20/10m":  {Limit: 20, Period: 10 * time.Minute},
		" 5 / 1s": {Limit: 5, Period: time.Second},
		"100/1d":  {Limit: 100, Period: 24 * time.Hour},
	}
	for in, want := range good {
		got, err := ParseRate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "ten", "-1", "5/", "5/xm", "5/0d", "5/500ms", "5/-1h"} {
		_, err := ParseRate(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseRatesRoundTrips(t *testing.T) {
	r, err := ParseRates("music.generate=20, *=5/1m ,jobs.read=2000/1d")
	require.NoError(t, err)
	assert.Equal(t, map[string]services.Rate{"music.generate": {Limit: 20, Period: time.Hour}, "*": {Limit: 5, Period: time.Minute}, "jobs.read": {Limit: 2000, Period: 24 * time.Hour}}, r)
	again, err := ParseRates(FormatRates(r))
	require.NoError(t, err)
	assert.Equal(t, r, again)
	empty, err := ParseRates("")
	require.NoError(t, err)
	assert.Empty(t, empty)
	for _, bad := range []string{"music.generate", "=5", "Music=5", "a b=5", "x=y"} {
		_, err := ParseRates(bad)
		assert.Error(t, err, bad)
	}
}
