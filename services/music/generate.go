// Package music is the embedded music module's generator: it turns a prompt and musical
// parameters into an arranged track, rendered as a WAV file. The same parameters and seed give
// the same audio, byte for byte.
package music

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"
)

// GenerateParams are what a caller asks for.
type GenerateParams struct {
	Prompt   string  `json:"prompt"`
	Duration int     `json:"duration,omitempty"`
	Genre    string  `json:"genre,omitempty"`
	Mood     string  `json:"mood,omitempty"`
	Tempo    int     `json:"tempo,omitempty"`
	Key      *string `json:"key,omitempty"`
	Seed     *int64  `json:"seed,omitempty"`
}

// Track describes a generated track; its audio is returned beside it.
type Track struct {
	ID              string    `json:"id"`
	Title           string    `json:"title"`
	Prompt          string    `json:"prompt"`
	DurationSeconds int       `json:"durationSeconds"`
	Genre           string    `json:"genre,omitempty"`
	Mood            string    `json:"mood,omitempty"`
	Tempo           int       `json:"tempo"`
	Key             string    `json:"key"`
	Seed            int64     `json:"seed"`
	Sections        []Section `json:"sections"`
	// LoudnessLufs (ITU-R BS.1770-4 integrated) and TruePeakDbtp (BS.1770-4 Annex 2) are
	// measured on the returned 16-bit file.
	LoudnessLufs float64 `json:"loudnessLufs"`
	TruePeakDbtp float64 `json:"truePeakDbtp"`
	// ServedBy is which backend made the track, embedded or remote, when a job records it.
	ServedBy string `json:"servedBy,omitempty"`
}

// Section is a part of the arrangement.
type Section struct {
	Name         string  `json:"name"`
	StartSeconds float64 `json:"startSeconds"`
	EndSeconds   float64 `json:"endSeconds"`
}

// Reporter hears how far rendering is; an error from it stops the rendering.
type Reporter func(pct int, message string, remaining time.Duration) error

// SampleRate and Channels of the rendered audio, which is 16-bit PCM.
const (
	SampleRate = 44100
	Channels   = 2
)

// Generator renders tracks. Speed, when above zero, caps rendering at that many seconds of
// audio per second, as a hosted model would take; zero renders as fast as the CPU allows.
type Generator struct {
	Speed float64
}

// Generate arranges and renders a track, reporting progress once per second of audio.
func (g Generator) Generate(ctx context.Context, p GenerateParams, report Reporter) (Track, []byte, error) {
	duration := p.Duration
	if duration == 0 {
		duration = 30
	}
	seed := rand.Int64N(1 << 32)
	if p.Seed != nil {
		seed = *p.Seed
	}
	rng := rand.New(rand.NewPCG(uint64(seed), hashString(p.Prompt+"|"+p.Genre+"|"+p.Mood)))
	tempo := p.Tempo
	if tempo == 0 {
		tempo = defaultTempo(p.Genre, p.Mood, rng)
	}
	key := ""
	if p.Key != nil {
		key = *p.Key
	}
	if key == "" {
		key = defaultKey(p.Mood, rng)
	}
	root, minor, err := parseKey(key)
	if err != nil {
		return Track{}, nil, err
	}

	t := Track{
		ID:              fmt.Sprintf("trk_%08x", uint32(hashString(fmt.Sprintf("%s|%d|%d|%s|%d", p.Prompt, seed, tempo, key, duration)))),
		Title:           title(p.Prompt, rng),
		Prompt:          p.Prompt,
		DurationSeconds: duration,
		Genre:           p.Genre,
		Mood:            p.Mood,
		Tempo:           tempo,
		Key:             key,
		Seed:            seed,
		Sections:        arrange(float64(duration)),
	}

	sc := newScore(root, minor, tempo, t.Sections, rng)
	// The first pass is the rendering proper, paced and reported; it meters the raw mix so
	// that mastering can start from the right gain. Mastering then renders the score again
	// (it is deterministic) in one-second blocks, so no whole-track float buffer exists.
	v := sc.start()
	meter := newLoudnessMeter(SampleRate)
	l, r := make([]float32, SampleRate), make([]float32, SampleRate)
	start := time.Now()
	for sec := 0; sec < duration; sec++ {
		if err := ctx.Err(); err != nil {
			return Track{}, nil, err
		}
		v.render(l, r)
		for i := range l {
			meter.add(float64(l[i]), float64(r[i]))
		}
		done := sec + 1
		if g.Speed > 0 {
			// Hold the pace a hosted model would have; the work itself still reports.
			due := start.Add(time.Duration(float64(done) / g.Speed * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				timer := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					timer.Stop()
					return Track{}, nil, ctx.Err()
				case <-timer.C:
				}
			}
		}
		elapsed := time.Since(start)
		remaining := time.Duration(float64(elapsed) / float64(done) * float64(duration-done))
		if err := report(done*100/duration, fmt.Sprintf("Rendered %d of %d seconds.", done, duration), remaining); err != nil {
			return Track{}, nil, err
		}
	}
	raw, ok := meter.integrated()
	if !ok {
		raw = targetLufs
	}
	m, err := master(ctx, sc, duration*SampleRate, raw, seed)
	if err != nil {
		return Track{}, nil, err
	}
	t.LoudnessLufs, t.TruePeakDbtp = m.lufs, m.truePeak
	return t, m.wav, nil
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func defaultTempo(genre, mood string, rng *rand.Rand) int {
	g := strings.ToLower(genre + " " + mood)
	for _, c := range []struct {
		word  string
		tempo int
	}{
		{"lo-fi", 82}, {"lofi", 82}, {"hip hop", 90}, {"hip-hop", 90}, {"trap", 140}, {"house", 124},
		{"techno", 130}, {"drum", 172}, {"ambient", 70}, {"ballad", 72}, {"rock", 120}, {"pop", 110},
		{"jazz", 100}, {"r&b", 95}, {"relaxed", 80}, {"calm", 75}, {"energetic", 128},
	} {
		if strings.Contains(g, c.word) {
			return c.tempo
		}
	}
	return 84 + rng.IntN(40)
}

func defaultKey(mood string, rng *rand.Rand) string {
	notes := []string{"C", "D", "E", "F", "G", "A", "B"}
	m := strings.ToLower(mood)
	minor := strings.Contains(m, "sad") || strings.Contains(m, "dark") || strings.Contains(m, "melanchol") ||
		strings.Contains(m, "moody") || (m == "" && rng.IntN(2) == 0)
	scale := "major"
	if minor {
		scale = "minor"
	}
	return notes[rng.IntN(len(notes))] + " " + scale
}

var noteIndex = map[string]int{"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

// parseKey reads keys such as "A minor" or "F# major" into a pitch class and mode.
func parseKey(key string) (int, bool, error) {
	name, mode, ok := strings.Cut(strings.TrimSpace(key), " ")
	if !ok || len(name) == 0 || (mode != "major" && mode != "minor") {
		return 0, false, fmt.Errorf("key %q: want a note and major or minor, such as \"A minor\"", key)
	}
	pc, ok := noteIndex[strings.ToUpper(name[:1])]
	if !ok {
		return 0, false, fmt.Errorf("key %q: unknown note", key)
	}
	switch name[1:] {
	case "#":
		pc++
	case "b":
		pc--
	case "":
	default:
		return 0, false, fmt.Errorf("key %q: unknown accidental", key)
	}
	return (pc + 12) % 12, mode == "minor", nil
}

func title(prompt string, rng *rand.Rand) string {
	stop := map[string]bool{"a": true, "an": true, "the": true, "with": true, "and": true, "of": true, "in": true,
		"for": true, "to": true, "beat": true, "track": true, "song": true, "some": true, "that": true, "on": true}
	var words []string
	for _, w := range strings.FieldsFunc(prompt, func(r rune) bool { return !unicode.IsLetter(r) && r != '-' }) {
		if lw := strings.ToLower(w); !stop[lw] && len(lw) > 2 {
			words = append(words, strings.ToUpper(lw[:1])+lw[1:])
		}
	}
	if len(words) == 0 {
		return []string{"Untitled Sketch", "First Light", "Night Drive"}[rng.IntN(3)]
	}
	if len(words) == 1 {
		return words[0]
	}
	i := rng.IntN(len(words) - 1)
	return words[i] + " " + words[i+1]
}

// arrange splits the track into intro, verses, choruses and outro.
func arrange(d float64) []Section {
	if d < 20 {
		return []Section{{"intro", 0, d * 0.25}, {"chorus", d * 0.25, d * 0.8}, {"outro", d * 0.8, d}}
	}
	intro, outro := math.Min(8, d*0.12), math.Min(10, d*0.12)
	body := d - intro - outro
	parts := []string{"verse", "chorus", "verse", "chorus"}
	if body < 40 {
		parts = []string{"verse", "chorus"}
	}
	out := []Section{{"intro", 0, intro}}
	step := body / float64(len(parts))
	for i, p := range parts {
		out = append(out, Section{p, intro + float64(i)*step, intro + float64(i+1)*step})
	}
	out = append(out, Section{"outro", d - outro, d})
	for i := range out {
		out[i].StartSeconds = math.Round(out[i].StartSeconds*10) / 10
		out[i].EndSeconds = math.Round(out[i].EndSeconds*10) / 10
	}
	return out
}
