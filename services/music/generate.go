// Package music is the embedded music module's generator: it turns a prompt and musical
// parameters into an arranged track, rendered as a WAV file. The same parameters and seed give
// the same audio, byte for byte.
package music

import (
	"bytes"
	"context"
	"encoding/binary"
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
	LoudnessLufs    float64   `json:"loudnessLufs"`
	TruePeakDbtp    float64   `json:"truePeakDbtp"`
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

// SampleRate of the rendered audio.
const SampleRate = 22050

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

	a := newArrangement(root, minor, tempo, t.Sections, rng)
	total := duration * SampleRate
	pcm := make([]int16, total)
	start := time.Now()
	for sec := 0; sec < duration; sec++ {
		if err := ctx.Err(); err != nil {
			return Track{}, nil, err
		}
		a.render(pcm[sec*SampleRate : (sec+1)*SampleRate])
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
	return t, wav(pcm), nil
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

// arrangement holds the synthesis state across rendered chunks.
type arrangement struct {
	root      int
	minor     bool
	beat      float64 // samples per beat
	sections  []Section
	chords    [][]int
	n         int // samples rendered so far
	phases    [4]float64
	swing     float64
	hatLevels [4]float64
}

func newArrangement(root int, minor bool, tempo int, sections []Section, rng *rand.Rand) *arrangement {
	progressions := [][][]int{{{0, 4, 7}, {7, 11, 14}, {9, 12, 16}, {5, 9, 12}}, {{0, 4, 7}, {5, 9, 12}, {7, 11, 14}, {0, 4, 7}}}
	if minor {
		progressions = [][][]int{{{0, 3, 7}, {8, 12, 15}, {3, 7, 10}, {10, 14, 17}}, {{0, 3, 7}, {5, 8, 12}, {7, 10, 14}, {0, 3, 7}}}
	}
	a := &arrangement{root: root, minor: minor, beat: SampleRate * 60 / float64(tempo), sections: sections,
		chords: progressions[rng.IntN(len(progressions))], swing: rng.Float64() * 0.1}
	for i := range a.hatLevels {
		a.hatLevels[i] = 0.02 + rng.Float64()*0.03
	}
	return a
}

func freq(semitonesFromA4 float64) float64 { return 440 * math.Pow(2, semitonesFromA4/12) }

func (a *arrangement) section(t float64) string {
	for _, s := range a.sections {
		if t >= s.StartSeconds && t < s.EndSeconds {
			return s.Name
		}
	}
	return "outro"
}

// render synthesises the next len(out) samples: a chord pad, a bass on the root, and drums
// outside the intro and outro.
func (a *arrangement) render(out []int16) {
	for i := range out {
		n := a.n + i
		t := float64(n) / SampleRate
		beatPos := float64(n) / a.beat
		bar := int(beatPos / 4)
		chord := a.chords[bar%len(a.chords)]
		sec := a.section(t)
		energy := 0.6
		if sec == "chorus" {
			energy = 1
		}
		base := float64(a.root - 9 - 12) // root in octave 3, relative to A4
		var v float64
		for j, interval := range chord {
			a.phases[j] += 2 * math.Pi * freq(base+float64(interval)) / SampleRate
			v += 0.08 * energy * (math.Sin(a.phases[j]) + 0.3*math.Sin(2*a.phases[j]))
		}
		a.phases[3] += 2 * math.Pi * freq(base-12+float64(chord[0])) / SampleRate
		inBeat := beatPos - math.Floor(beatPos)
		v += 0.18 * math.Sin(a.phases[3]) * math.Exp(-inBeat*2)
		if sec != "intro" && sec != "outro" {
			if b := int(beatPos) % 4; b == 0 || b == 2 {
				v += 0.5 * math.Sin(2*math.Pi*55*inBeat*a.beat/SampleRate*(1-inBeat*0.5)) * math.Exp(-inBeat*12)
			}
			half := beatPos*2 - math.Floor(beatPos*2)
			noise := float64(int32(uint32(n)*2654435761)) / math.MaxInt32
			v += a.hatLevels[int(beatPos*2)%4] * noise * math.Exp(-half*30) * energy
		}
		// Fade in and out over the first and last two seconds.
		total := float64(a.sections[len(a.sections)-1].EndSeconds)
		fade := math.Min(1, math.Min(t/2, (total-t)/2))
		out[i] = int16(math.Max(-1, math.Min(1, v*math.Max(fade, 0))) * 32000)
	}
	a.n += len(out)
}

// wav encodes mono 16-bit PCM as a RIFF WAVE file.
func wav(pcm []int16) []byte {
	var buf bytes.Buffer
	dataLen := uint32(len(pcm) * 2)
	buf.Grow(44 + int(dataLen))
	buf.WriteString("RIFF")
	binary.Write(&buf, binary.LittleEndian, 36+dataLen)
	buf.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(SampleRate), uint32(SampleRate * 2), uint16(2), uint16(16)} {
		binary.Write(&buf, binary.LittleEndian, v)
	}
	buf.WriteString("data")
	binary.Write(&buf, binary.LittleEndian, dataLen)
	binary.Write(&buf, binary.LittleEndian, pcm)
	return buf.Bytes()
}
