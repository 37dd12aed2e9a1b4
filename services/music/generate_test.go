package music

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/audio"
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
	assert.Equal(t, 100, tr.Tempo)
	assert.Equal(t, "RIFF", string(data[:4]))
	assert.Equal(t, "WAVE", string(data[8:12]))
	assert.Equal(t, uint16(1), binary.LittleEndian.Uint16(data[20:22]), "PCM")
	assert.Equal(t, uint16(2), binary.LittleEndian.Uint16(data[22:24]), "stereo")
	assert.Equal(t, uint32(44100), binary.LittleEndian.Uint32(data[24:28]))
	assert.Equal(t, uint16(16), binary.LittleEndian.Uint16(data[34:36]), "16-bit")
	assert.Equal(t, 44+5*SampleRate*4, len(data))
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

func TestGenerateHonoursPacing(t *testing.T) {
	start := time.Now()
	_, _, err := Generator{Speed: 10}.Generate(context.Background(), GenerateParams{Prompt: "x", Duration: 3}, noReport)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "3 s of audio at 10x takes 0.3 s")
}

type masteringCase struct {
	key      string
	tempo    int
	duration int
}

// masteringCases cover major and minor keys, the tempos that tempo trackers most often halve
// or double, and the short and long ends of the durations.
func masteringCases() []masteringCase {
	cases := []masteringCase{
		{"C major", 120, 10},
		{"A minor", 80, 30},
		{"F# minor", 174, 30},
		{"Eb major", 128, 30},
		{"G minor", 120, 60},
	}
	if testing.Short() {
		return cases[:3]
	}
	return cases
}

func TestGenerateMastersKeyAndTempo(t *testing.T) {
	for _, c := range masteringCases() {
		t.Run(fmt.Sprintf("%s/%d/%ds", c.key, c.tempo, c.duration), func(t *testing.T) {
			seed := int64(7)
			key := c.key
			tr, data, err := Generator{}.Generate(context.Background(),
				GenerateParams{Prompt: "test", Duration: c.duration, Tempo: c.tempo, Key: &key, Seed: &seed}, noReport)
			require.NoError(t, err)
			assert.Equal(t, c.key, tr.Key)
			assert.Equal(t, c.tempo, tr.Tempo)

			rep := analyze(t, data)
			assert.Equal(t, 44100, rep.SampleRateHz)
			assert.Equal(t, 2, rep.Channels)
			assert.Equal(t, 16, rep.BitDepth)
			assert.InDelta(t, c.duration, rep.DurationSeconds, 0.001)

			require.NotNil(t, rep.IntegratedLufs)
			assert.InDelta(t, -14, *rep.IntegratedLufs, 0.5, "integrated loudness")
			assert.LessOrEqual(t, rep.TruePeakDbtp, -1.0, "true peak")
			assert.InDelta(t, *rep.IntegratedLufs, tr.LoudnessLufs, 1e-9, "the track records what the file measures")
			assert.InDelta(t, rep.TruePeakDbtp, tr.TruePeakDbtp, 1e-9)

			require.NotNil(t, rep.StereoCorrelation)
			require.NotNil(t, rep.StereoWidth)
			assert.Greater(t, *rep.StereoCorrelation, 0.0, "mono-compatible")
			assert.Less(t, *rep.StereoCorrelation, 1.0, "not mono")
			assert.Greater(t, *rep.StereoWidth, 0.02)
			assert.Zero(t, rep.Clipping.Runs)

			require.NotNil(t, rep.Tempo, rep.TempoReason)
			assert.InDelta(t, c.tempo, rep.Tempo.Bpm, 1, "tempo, neither half nor double")
			require.NotNil(t, rep.Key, rep.KeyReason)
			root, minor, err := parseKey(c.key)
			require.NoError(t, err)
			mode := map[bool]string{false: "major", true: "minor"}[minor]
			assert.Equal(t, root, rep.Key.PitchClass, "key %s read as %s", c.key, rep.Key.Name)
			assert.Equal(t, mode, rep.Key.Mode, "key %s read as %s", c.key, rep.Key.Name)

			t.Logf("ours: I %.2f LUFS, TP %.2f dBTP, corr %.3f, width %.3f, tempo %.2f BPM, key %s (%.2f)",
				*rep.IntegratedLufs, rep.TruePeakDbtp, *rep.StereoCorrelation, *rep.StereoWidth,
				rep.Tempo.Bpm, rep.Key.Name, rep.Key.Confidence)

			path := filepath.Join(t.TempDir(), "track.wav")
			require.NoError(t, os.WriteFile(path, data, 0o600))
			checkFFmpeg(t, path)
			checkAubio(t, path, c.tempo)
		})
	}
}

func TestGenerateDefaultsStillMaster(t *testing.T) {
	seed := int64(3)
	tr, data, err := Generator{}.Generate(context.Background(),
		GenerateParams{Prompt: "calm evening", Duration: 12, Mood: "calm", Seed: &seed}, noReport)
	require.NoError(t, err)
	assert.Equal(t, 75, tr.Tempo, "calm picks the tempo")
	_, _, err = parseKey(tr.Key)
	require.NoError(t, err, "a key is picked and recorded")
	rep := analyze(t, data)
	require.NotNil(t, rep.IntegratedLufs)
	assert.InDelta(t, -14, *rep.IntegratedLufs, 0.5)
	assert.LessOrEqual(t, rep.TruePeakDbtp, -1.0)
}

func analyze(t *testing.T, data []byte) *audio.Report {
	t.Helper()
	s, err := audio.Open(bytes.NewReader(data), audio.Options{DisableFFmpeg: true})
	require.NoError(t, err)
	defer s.Close()
	rep, err := audio.Analyze(s, audio.AnalyzeOptions{})
	require.NoError(t, err)
	return rep
}

func requireTool(t *testing.T, name, why string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("JARVIS_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not on PATH and JARVIS_TEST_REQUIRE_SERVICES=1", name)
		}
		t.Skipf("%s is not on PATH: %s is not checked independently", name, why)
	}
	return path
}

var (
	ebuIntegrated = regexp.MustCompile(`I:\s+(-?[0-9.]+) LUFS`)
	ebuPeak       = regexp.MustCompile(`Peak:\s+(-?[0-9.]+) dBFS`)
)

// checkFFmpeg reads the file with ffmpeg's ebur128 filter, an independent BS.1770 meter.
func checkFFmpeg(t *testing.T, path string) {
	t.Run("ffmpeg", func(t *testing.T) {
		bin := requireTool(t, "ffmpeg", "loudness and true peak")
		out, err := exec.Command(bin, "-nostats", "-hide_banner", "-i", path, "-af", "ebur128=peak=true", "-f", "null", "-").CombinedOutput()
		require.NoError(t, err, string(out))
		summary := out[bytes.LastIndex(out, []byte("Summary:")):]
		i := ebuIntegrated.FindSubmatch(summary)
		p := ebuPeak.FindSubmatch(summary)
		require.NotNil(t, i, string(summary))
		require.NotNil(t, p, string(summary))
		lufs, _ := strconv.ParseFloat(string(i[1]), 64)
		peak, _ := strconv.ParseFloat(string(p[1]), 64)
		assert.InDelta(t, -14, lufs, 0.5, "ffmpeg integrated loudness")
		assert.LessOrEqual(t, peak, -1.0, "ffmpeg true peak")
		t.Logf("ffmpeg: I %.1f LUFS, true peak %.1f dBFS", lufs, peak)
	})
}

var aubioBpm = regexp.MustCompile(`([0-9.]+) bpm`)

// checkAubio runs aubio's beat tracker, which shares no code with the audio package.
func checkAubio(t *testing.T, path string, tempo int) {
	t.Run("aubio", func(t *testing.T) {
		bin := requireTool(t, "aubio", "the tempo")
		if tempo < 100 || tempo > 150 {
			// aubio's tracker is drawn to periods near 0.7 s: at 80 BPM it starts on the
			// eighths for a few beats before it locks, and at 174 it settles on half time
			// after about 4 s. It prints the mean of its beat-to-beat tempi, so both read
			// several BPM off; our analyser's check above covers these tempos.
			t.Skipf("aubio tempo is not reliable at %d BPM (locks on the eighths or on half time)", tempo)
		}
		out, err := exec.Command(bin, "tempo", path).CombinedOutput()
		require.NoError(t, err, string(out))
		m := aubioBpm.FindSubmatch(out)
		require.NotNil(t, m, string(out))
		bpm, _ := strconv.ParseFloat(string(m[1]), 64)
		assert.InDelta(t, tempo, bpm, 2, "aubio tempo, neither half nor double")
		t.Logf("aubio: %.2f BPM", bpm)
	})
}

func BenchmarkGenerate30s(b *testing.B) {
	seed := int64(1)
	key := "D minor"
	p := GenerateParams{Prompt: "bench", Duration: 30, Tempo: 120, Key: &key, Seed: &seed}
	for b.Loop() {
		if _, _, err := (Generator{}).Generate(context.Background(), p, noReport); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(30*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}
