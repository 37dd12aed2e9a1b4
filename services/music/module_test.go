package music

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/audio"
	"github.com/aidawg/jarvis/services/ssrf"
)

func f(v float64) *float64 { return &v }

// masteredReport is a measurement that meets every standard's streaming-side targets.
func masteredReport() *audio.Report {
	return &audio.Report{Format: "wav", SampleRateHz: 44100, Channels: 2, BitDepth: 24, DurationSeconds: 180,
		IntegratedLufs: f(-14.2), LoudnessRangeLu: f(6), TruePeakDbtp: -1.4, SamplePeakDbfs: -1.6,
		DcOffsetDbfs: []float64{-90, -88}}
}

func checkByCode(t *testing.T, r aidawg.QualityReport, code string) aidawg.QualityCheck {
	t.Helper()
	for _, c := range r.Checks {
		if c.Code == code {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", code, r.Checks)
	return aidawg.QualityCheck{}
}

func TestQualityStandards(t *testing.T) {
	good := masteredReport()
	for _, std := range []aidawg.QualityStandard{aidawg.Streaming, aidawg.Mastering} {
		r := qualityReport(good, std)
		assert.True(t, r.Valid, "%s: %+v", std, r.Checks)
		assert.Equal(t, 100, r.Score, std)
	}

	loud := masteredReport()
	loud.IntegratedLufs, loud.TruePeakDbtp = f(-8.7), 0.3
	r := qualityReport(loud, aidawg.Streaming)
	assert.False(t, r.Valid)
	assert.Equal(t, 50, r.Score, "two failed errors")
	l := checkByCode(t, r, "integrated-loudness")
	assert.Equal(t, aidawg.Fail, l.Status)
	assert.Equal(t, -8.7, *l.Measured)
	assert.Equal(t, "Lower the master by 5.3 dB, or ease the limiter, to reach -14 LUFS.", *l.Fix)
	tp := checkByCode(t, r, "true-peak")
	assert.Equal(t, "Lower the limiter's ceiling by 1.3 dB, to -1 dBTP, with true-peak detection on.", *tp.Fix)

	// Broadcast: -14 LUFS is 8.8 LU too loud for EBU R128; the loudness range passes.
	b := qualityReport(good, aidawg.Broadcast)
	assert.False(t, b.Valid)
	assert.Contains(t, *checkByCode(t, b, "integrated-loudness").Fix, "Lower the master by 8.8 dB")
	assert.True(t, checkByCode(t, b, "loudness-range").Passed)

	// Mastering: warnings lower the score but leave the master valid; errors do not.
	rough := masteredReport()
	rough.DcOffsetDbfs = []float64{-90, -41.5}
	rough.LongestGap = &audio.SilenceGap{StartSeconds: 60, DurationSeconds: 3.5}
	m := qualityReport(rough, aidawg.Mastering)
	assert.True(t, m.Valid)
	assert.Equal(t, 80, m.Score)
	assert.Equal(t, aidawg.Warn, checkByCode(t, m, "dc-offset").Status)
	assert.Equal(t, -41.5, *checkByCode(t, m, "dc-offset").Measured)
	assert.Equal(t, aidawg.Warn, checkByCode(t, m, "silence-gap").Status)

	lossy := masteredReport()
	lossy.Format, lossy.BitDepth, lossy.SampleRateHz = "mp3", 0, 22050
	lossy.Clipping = audio.Clipping{Runs: 3, Samples: 12, FirstSeconds: f(12.25)}
	lm := qualityReport(lossy, aidawg.Mastering)
	assert.False(t, lm.Valid)
	assert.Equal(t, 25, lm.Score, "clipping, sample rate and bit depth fail")
	assert.Contains(t, checkByCode(t, lm, "clipping").Message, "the first at 12.25 s")
	assert.Nil(t, checkByCode(t, lm, "bit-depth").Measured, "a lossy file has no bit depth")

	silent := masteredReport()
	silent.IntegratedLufs = nil
	sl := checkByCode(t, qualityReport(silent, aidawg.Streaming), "integrated-loudness")
	assert.False(t, sl.Passed)
	assert.Nil(t, sl.Measured)
}

func TestAnalysisSaysWhyAFigureIsMissing(t *testing.T) {
	r := masteredReport()
	r.IntegratedLufs, r.TempoReason, r.KeyReason = nil, "no periodic pulse", "no tonal content"
	a := trackAnalysis(r)
	assert.Nil(t, a.Tempo)
	assert.Nil(t, a.Key)
	assert.Contains(t, a.Notes, "tempo: no periodic pulse")
	assert.Contains(t, a.Notes, "key: no tonal content")
	assert.Contains(t, a.Notes, noGenreMethod)
	assert.Empty(t, a.Genres)
	require.NotNil(t, a.BitDepth)
	assert.Equal(t, 24, *a.BitDepth)

	r.Tempo, r.Key = &audio.Tempo{Bpm: 127.96, Confidence: 0.8123}, &audio.Key{Name: "E minor", Confidence: 0.91}
	r.Sections = []audio.Section{{StartSeconds: 0, EndSeconds: 30}, {StartSeconds: 30, EndSeconds: 180}}
	a = trackAnalysis(r)
	assert.Equal(t, 128.0, *a.Tempo)
	assert.Equal(t, "E minor", *a.Key)
	assert.Equal(t, "section 2", a.Sections[1].Name)

	assert.False(t, vocalAnalysis(&audio.Report{VocalsReason: "too short"}).Present)
	v := vocalAnalysis(&audio.Report{Vocals: &audio.Vocals{PresenceRatio: 0.05}})
	assert.False(t, v.Present, "a trace of pitch is not vocals")
	v = vocalAnalysis(&audio.Report{Vocals: &audio.Vocals{PresenceRatio: 0.4, LowestNote: "A2", HighestNote: "E5", PitchStabilityCents: 12}})
	assert.True(t, v.Present)
	assert.Equal(t, "E5", *v.HighestNote)
}

func TestMediaFailures(t *testing.T) {
	cases := []struct {
		err  error
		code aidawg.ErrorCode
		says string
	}{
		{&SourceError{Message: "The link answered HTTP 404 instead of the audio."}, aidawg.INVALIDPARAMS, "HTTP 404"},
		{&audio.UnsupportedFormatError{Detected: "aiff", Accepted: []audio.Format{"wav", "flac"}}, aidawg.UNSUPPORTEDMEDIA, "aiff"},
		{&audio.CorruptError{Format: "unknown", Detail: "ffmpeg failed"}, aidawg.UNSUPPORTEDMEDIA, "no audio format"},
		{&audio.CorruptError{Format: "flac", Detail: "frame 3 CRC mismatch", Truncated: true}, aidawg.INVALIDPARAMS, "FLAC file is truncated: frame 3"},
		{&audio.TooLongError{MaxSeconds: 900, Seconds: 1200}, aidawg.INVALIDPARAMS, "longer than 900 seconds"},
		{errors.New("disk on fire"), aidawg.EXECUTIONFAILED, "could not be analysed"},
	}
	for _, tc := range cases {
		got := mediaFailure(tc.err)
		assert.Equal(t, tc.code, got.Code, "%v", tc.err)
		assert.Contains(t, got.Message, tc.says)
		if tc.code != aidawg.EXECUTIONFAILED {
			require.NotEmpty(t, got.Fields)
			assert.Equal(t, "/audioUrl", got.Fields[0].Field)
		}
	}
}

func TestSourceReadsOwnLinksFromTheStoreAndOthersThroughTheGuard(t *testing.T) {
	ctx := context.Background()
	files, err := artifacts.NewFiles(t.TempDir())
	require.NoError(t, err)
	links := artifacts.NewSigner([]byte(strings.Repeat("k", 32)), "https://jarvis.example.com", time.Hour)
	_, err = files.Put(ctx, "art_1", strings.NewReader("RIFF-bytes"))
	require.NoError(t, err)
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 64))
	}))
	defer host.Close()
	read := func(s *Source, url string) (string, error) {
		rc, err := s.Open(ctx, url)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
	strict := &Source{Guard: ssrf.New(nil, time.Second, 1<<20), MaxBytes: 1 << 20, Links: links, Files: files}

	own, _ := links.URL("art_1", time.Now())
	got, err := read(strict, own)
	require.NoError(t, err, "an own link needs no network, not even loopback")
	assert.Equal(t, "RIFF-bytes", got)
	require.NoError(t, strict.Check(own))

	_, err = read(strict, own[:len(own)-2]+"00")
	assert.ErrorContains(t, err, "not valid")
	assert.Error(t, strict.Check(own[:len(own)-2]+"00"))

	_, err = read(strict, host.URL+"/a.wav")
	assert.ErrorContains(t, err, "loopback", "loopback is refused unless allowed")
	assert.Error(t, strict.Check(host.URL+"/a.wav"))

	allowLoopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	allowed := &Source{Guard: ssrf.New(allowLoopback, time.Second, 1<<20), MaxBytes: 1 << 20}
	got, err = read(allowed, host.URL+"/a.wav")
	require.NoError(t, err)
	assert.Len(t, got, 64)

	small := &Source{Guard: ssrf.New(allowLoopback, time.Second, 1<<20), MaxBytes: 10}
	_, err = read(small, host.URL+"/a.wav")
	var se *SourceError
	require.ErrorAs(t, err, &se, "a file over the limit fails rather than being cut")
	assert.Contains(t, se.Message, "larger than")
}
