package music

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func noReport(int, string, time.Duration) error { return nil }

func TestGenerateIsReproducibleWithASeed(t *testing.T) {
	seed := int64(42)
	p := GenerateParams{Prompt: "a warm lo-fi beat with vinyl crackle", Duration: 6, Genre: "lo-fi", Seed: &seed}
	a, wavA, err := Generator{}.Generate(context.Background(), p, noReport)
	require.NoError(t, err)
	b, wavB, err := Generator{}.Generate(context.Background(), p, noReport)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.True(t, bytes.Equal(wavA, wavB), "the same seed gives the same audio")

	other := int64(43)
	p.Seed = &other
	_, wavC, err := Generator{}.Generate(context.Background(), p, noReport)
	require.NoError(t, err)
	assert.False(t, bytes.Equal(wavA, wavC), "another seed gives other audio")

	assert.Equal(t, 82, a.Tempo, "lo-fi sets the tempo when none is given")
	assert.Equal(t, int64(42), a.Seed)
	assert.Equal(t, 6, a.DurationSeconds)
	assert.NotEmpty(t, a.Title)
}

func TestGenerateWritesAPlayableWAV(t *testing.T) {
	key := "F# minor"
	tr, data, err := Generator{}.Generate(context.Background(), GenerateParams{Prompt: "dark pads", Duration: 5, Tempo: 100, Key: &key}, noReport)
	require.NoError(t, err)
	assert.Equal(t, "F# minor", tr.Key)
	assert.Equal(t, "RIFF", string(data[:4]))
	assert.Equal(t, "WAVE", string(data[8:12]))
	assert.Equal(t, uint32(SampleRate), binary.LittleEndian.Uint32(data[24:28]))
	assert.Equal(t, 44+5*SampleRate*2, len(data))
	var peak int16
	for i := 44; i+1 < len(data); i += 2 {
		if v := int16(binary.LittleEndian.Uint16(data[i:])); v > peak {
			peak = v
		}
	}
	assert.Greater(t, peak, int16(1000), "the track is not silent")
	last := tr.Sections[len(tr.Sections)-1]
	assert.Equal(t, "outro", last.Name)
	assert.InDelta(t, 5, last.EndSeconds, 0.01)
}

func TestGenerateReportsProgressAndStops(t *testing.T) {
	var seen []int
	stop := errors.New("stop")
	_, _, err := Generator{}.Generate(context.Background(), GenerateParams{Prompt: "x", Duration: 10},
		func(pct int, msg string, remaining time.Duration) error {
			seen = append(seen, pct)
			if pct >= 50 {
				return stop
			}
			return nil
		})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, []int{10, 20, 30, 40, 50}, seen)

	bad := "H major"
	_, _, err = Generator{}.Generate(context.Background(), GenerateParams{Prompt: "x", Duration: 5, Key: &bad}, noReport)
	assert.Error(t, err)
}
