package audio

import (
	"testing"
	"time"
)

func TestQuick(t *testing.T) {
	x := musicLike(44100, 30)
	b := writeWAV(x, 2, 44100, pcm16)
	start := time.Now()
	r := analyzeBytes(t, b, AnalyzeOptions{Vocals: true})
	t.Logf("%v", time.Since(start))
	t.Logf("I=%v LRA=%v tp=%v sp=%v tempo=%+v key=%+v sections=%v vocals=%+v %s", *r.IntegratedLufs, *r.LoudnessRangeLu, r.TruePeakDbtp, r.SamplePeakDbfs, r.Tempo, r.Key, r.Sections, r.Vocals, r.VocalsReason)
}
