package tests

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
)

// stereoSineWAV is a 16-bit stereo WAV of a sine of freqHz at peak dBFS in both channels.
func stereoSineWAV(rateHz int, seconds, freqHz, peakDbfs float64) []byte {
	frames := int(seconds * float64(rateHz))
	amp := math.Pow(10, peakDbfs/20)
	var buf bytes.Buffer
	data := uint32(frames * 4)
	buf.WriteString("RIFF")
	_ = binary.Write(&buf, binary.LittleEndian, 36+data)
	buf.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(2), uint32(rateHz), uint32(rateHz * 4), uint16(4), uint16(16)} {
		_ = binary.Write(&buf, binary.LittleEndian, v)
	}
	buf.WriteString("data")
	_ = binary.Write(&buf, binary.LittleEndian, data)
	for i := range frames {
		v := int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freqHz*float64(i)/float64(rateHz))))
		_ = binary.Write(&buf, binary.LittleEndian, [2]int16{v, v})
	}
	return buf.Bytes()
}

// fileHost serves files on loopback, as ChatGPT's file store serves a user's upload.
func fileHost(t *testing.T, files map[string][]byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// An uploaded file is measured as a mastering meter measures it: a 1 kHz sine at -20 dBFS in
// both channels reads -20 LUFS (BS.1770: the K-filter's +0.69 dB at 1 kHz and the second
// channel's +3.01 dB cancel the -0.691 offset and the sine's -3.01 dB RMS).
func TestAnalyzeAndValidateAnUploadedFile(t *testing.T) {
	t.Parallel()
	host := fileHost(t, map[string][]byte{
		"/sine.wav":      stereoSineWAV(48000, 5, 1000, -20),
		"/truncated.wav": stereoSineWAV(48000, 5, 1000, -20)[:30],
		"/noise.bin":     bytes.Repeat([]byte("not audio at all "), 100),
	})
	s := startServer(t, env{"JARVIS_SSRF_ALLOW": "127.0.0.1/32"})
	ctx := context.Background()
	upload := func(path string) []client.OpenAIFileRef {
		return []client.OpenAIFileRef{{Id: "file-1", Name: ptr("mix.wav"), DownloadLink: host.URL + path}}
	}

	resp, err := s.Client.AnalyzeMusicWithResponse(ctx, client.AnalyzeMusicRequest{OpenaiFileIdRefs: upload("/sine.wav")})
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	a := resp.JSON200.Analysis
	require.NotNil(t, a.IntegratedLufs)
	assert.InDelta(t, -20.0, *a.IntegratedLufs, 0.1)
	assert.InDelta(t, -20.0, a.SamplePeakDbfs, 0.01)
	assert.Equal(t, 48000, a.SampleRateHz)
	assert.Equal(t, 2, a.Channels)
	require.NotNil(t, a.StereoCorrelation)
	assert.InDelta(t, 1.0, *a.StereoCorrelation, 0.001, "the same signal in both channels")
	assert.Equal(t, client.Embedded, resp.JSON200.Meta.ServedBy)
	assert.Empty(t, a.Genres, "no genre is made up")

	// -20 LUFS is 6 LU below the streaming level: the report says by how much to raise it.
	v, err := s.Client.ValidateMusicWithResponse(ctx, client.ValidateMusicRequest{OpenaiFileIdRefs: upload("/sine.wav")})
	require.NoError(t, err)
	require.NotNil(t, v.JSON200, "status %d: %s", v.StatusCode(), v.Body)
	rep := v.JSON200.Report
	assert.False(t, rep.Valid)
	assert.Equal(t, 75, rep.Score)
	require.Len(t, rep.Checks, 2)
	loud := rep.Checks[0]
	assert.Equal(t, "integrated-loudness", loud.Code)
	assert.Equal(t, client.Fail, loud.Status)
	require.NotNil(t, loud.Fix)
	assert.Contains(t, *loud.Fix, "Raise the master by 6.0 dB")
	assert.True(t, rep.Checks[1].Passed, "a -20 dBFS sine is far under the true-peak ceiling")

	// Each bad input gets its problem, naming the field the caller used.
	truncated, err := s.Client.AnalyzeMusicWithResponse(ctx, client.AnalyzeMusicRequest{OpenaiFileIdRefs: upload("/truncated.wav")})
	require.NoError(t, err)
	require.NotNil(t, truncated.ApplicationproblemJSON422, "status %d: %s", truncated.StatusCode(), truncated.Body)
	assert.Contains(t, truncated.ApplicationproblemJSON422.Detail, "truncated")
	assert.Equal(t, "/openaiFileIdRefs/0/download_link", truncated.ApplicationproblemJSON422.Errors[0].Field)

	missing, err := s.Client.AnalyzeMusicWithResponse(ctx, client.AnalyzeMusicRequest{AudioUrl: ptr(host.URL + "/gone.wav")})
	require.NoError(t, err)
	require.NotNil(t, missing.ApplicationproblemJSON422, "status %d: %s", missing.StatusCode(), missing.Body)
	assert.Contains(t, missing.ApplicationproblemJSON422.Detail, "HTTP 404")

	// The same upload through MCP, as Claude or a ChatGPT app sends it, and a link the guard refuses.
	session := mcpSession(t, s, "")
	mv := callTool(t, session, "analyzeMusic", map[string]any{"openaiFileIdRefs": []any{map[string]any{"id": "file-1", "download_link": host.URL + "/sine.wav"}}})
	require.False(t, mv.IsError, text(mv))
	lufs := mv.StructuredContent.(map[string]any)["analysis"].(map[string]any)["integratedLufs"].(float64)
	assert.InDelta(t, -20.0, lufs, 0.1)
	refused := callTool(t, session, "validateMusic", map[string]any{"audioUrl": "http://169.254.169.254/latest/meta-data"})
	require.True(t, refused.IsError)
	assert.Contains(t, text(refused), "may not fetch audioUrl")

	noise, err := s.Client.AnalyzeMusicWithResponse(ctx, client.AnalyzeMusicRequest{AudioUrl: ptr(host.URL + "/noise.bin")})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnsupportedMediaType, noise.StatusCode(), "%s", noise.Body)
	assert.Equal(t, "unsupported_media_type", noise.ApplicationproblemJSON415.Code)
	assert.Contains(t, noise.ApplicationproblemJSON415.Detail, "wav")
}

// Links to private, loopback or link-local addresses are refused before anything is fetched,
// unless JARVIS_SSRF_ALLOW names them; exactly one source of audio is required.
func TestAudioLinksGoThroughTheSSRFGuard(t *testing.T) {
	t.Parallel()
	host := fileHost(t, map[string][]byte{"/sine.wav": stereoSineWAV(44100, 1, 440, -6)})
	s := startServer(t, nil)
	ctx := context.Background()
	for _, url := range []string{host.URL + "/sine.wav", "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/a.wav", "file:///etc/passwd"} {
		resp, err := s.Client.ValidateMusicWithResponse(ctx, client.ValidateMusicRequest{AudioUrl: &url})
		require.NoError(t, err)
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, resp.StatusCode(), "%s: %s", url, resp.Body)
	}
	refused, err := s.Client.AnalyzeMusicWithResponse(ctx, client.AnalyzeMusicRequest{AudioUrl: ptr(host.URL + "/sine.wav")})
	require.NoError(t, err)
	require.NotNil(t, refused.ApplicationproblemJSON422, "status %d: %s", refused.StatusCode(), refused.Body)
	assert.Equal(t, "/audioUrl", refused.ApplicationproblemJSON422.Errors[0].Field)

	none, err := s.Client.AnalyzeMusicWithResponse(ctx, client.AnalyzeMusicRequest{})
	require.NoError(t, err)
	require.NotNil(t, none.ApplicationproblemJSON400, "status %d", none.StatusCode())
	url := "https://cdn.example.com/a.mp3"
	both, err := s.Client.ValidateMusicWithResponse(ctx, client.ValidateMusicRequest{
		AudioUrl: &url, OpenaiFileIdRefs: []client.OpenAIFileRef{{Id: "file-1", DownloadLink: url}},
	})
	require.NoError(t, err)
	require.NotNil(t, both.ApplicationproblemJSON400, "status %d", both.StatusCode())
	assert.Len(t, both.ApplicationproblemJSON400.Errors, 2)
}

// "Analyse the track you just made": Jarvis's own download link is read from its store, and
// the analysis recovers the key and tempo the track was made in.
func TestAnalyzeTheTrackJustMade(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	gen, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{
		Prompt: "a driving synth track", Duration: ptr(30), Key: ptr("E minor"), Tempo: ptr(128), Seed: ptr(7)})
	require.NoError(t, err)
	require.NotNil(t, gen.JSON200, "status %d: %s", gen.StatusCode(), gen.Body)
	require.NotNil(t, gen.JSON200.Track.Audio)
	link := gen.JSON200.Track.Audio.Url

	resp, err := s.Client.AnalyzeMusicWithResponse(ctx, client.AnalyzeMusicRequest{AudioUrl: &link})
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	a := resp.JSON200.Analysis
	require.NotNil(t, a.Key, "notes: %v", a.Notes)
	assert.Equal(t, "E minor", *a.Key)
	require.NotNil(t, a.Tempo, "notes: %v", a.Notes)
	assert.InDelta(t, 128, *a.Tempo, 1, "not half or double")

	// The same track through MCP, as Claude or ChatGPT's apps would ask.
	session := mcpSession(t, s, "")
	v := callTool(t, session, "validateMusic", map[string]any{"audioUrl": link, "standards": "mastering"})
	require.False(t, v.IsError, text(v))
	report := v.StructuredContent.(map[string]any)["report"].(map[string]any)
	assert.Equal(t, "mastering", report["standard"])
	assert.NotEmpty(t, report["checks"])

	// A link whose signature was tampered with is not read from the store.
	bad, err := s.Client.AnalyzeMusicWithResponse(ctx, client.AnalyzeMusicRequest{AudioUrl: ptr(link + "0")})
	require.NoError(t, err)
	require.NotNil(t, bad.ApplicationproblemJSON422, "status %d: %s", bad.StatusCode(), bad.Body)
	assert.Contains(t, bad.ApplicationproblemJSON422.Detail, "not valid")
}
