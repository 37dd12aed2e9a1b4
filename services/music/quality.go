package music

import (
	"fmt"
	"math"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services/audio"
)

// Penalties of the quality score: score = max(0, 100 - 25 per failed error - 10 per failed
// warning).
const (
	errorPenalty   = 25
	warningPenalty = 10
)

type severity = aidawg.QualityCheckSeverity

const (
	sevError   = aidawg.QualityCheckSeverityError
	sevWarning = aidawg.QualityCheckSeverityWarning
)

// Targets of the standards.
const (
	// The level Spotify, YouTube and Tidal normalise to, and their ceiling for lossy encoding.
	streamingLufs, streamingTolerance, streamingCeilingDbtp = -14.0, 1.0, -1.0
	// EBU R128 (2020): programme loudness -23 LUFS ±0.5 LU (±1 LU for live), max true peak -1 dBTP.
	broadcastLufs, broadcastTolerance, broadcastCeilingDbtp = -23.0, 0.5, -1.0
	// EBU Tech 3343 calls a loudness range above 20 LU hard to follow on ordinary receivers.
	broadcastMaxLRA = 20.0
	// A master leaves headroom for the inter-sample peaks that conversion and resampling reveal.
	masteringCeilingDbtp = -0.3
	masteringMinRateHz   = 44100
	masteringMinBits     = 16
	masteringMaxDcDbfs   = -60.0
	masteringMaxGap      = 2.0 // seconds of silence inside the track
)

// qualityReport checks a measurement against a standard.
func qualityReport(r *audio.Report, standard aidawg.QualityStandard) aidawg.QualityReport {
	var checks []aidawg.QualityCheck
	switch standard {
	case aidawg.Broadcast:
		checks = []aidawg.QualityCheck{
			loudnessCheck(r, broadcastLufs, broadcastTolerance, "EBU R128 (±1 LU is accepted for live programmes)"),
			truePeakCheck(r, broadcastCeilingDbtp),
			lraCheck(r),
		}
	case aidawg.Mastering:
		checks = []aidawg.QualityCheck{
			clippingCheck(r),
			truePeakCheck(r, masteringCeilingDbtp),
			sampleRateCheck(r),
			bitDepthCheck(r),
			dcOffsetCheck(r),
			silenceGapCheck(r),
		}
	default:
		standard = aidawg.Streaming
		checks = []aidawg.QualityCheck{
			loudnessCheck(r, streamingLufs, streamingTolerance, "the level Spotify, YouTube and Tidal normalise to"),
			truePeakCheck(r, streamingCeilingDbtp),
		}
	}
	out := aidawg.QualityReport{Valid: true, Standard: standard, Score: 100, Checks: checks}
	for _, c := range checks {
		if c.Passed {
			continue
		}
		if c.Severity == sevError {
			out.Valid = false
			out.Score -= errorPenalty
		} else {
			out.Score -= warningPenalty
		}
	}
	out.Score = max(out.Score, 0)
	return out
}

func check(code string, sev severity, passed bool, measured *float64, unit, target, message, fix string) aidawg.QualityCheck {
	c := aidawg.QualityCheck{Code: code, Severity: sev, Passed: passed, Measured: measured, Target: target, Message: message,
		Status: aidawg.Pass}
	if unit != "" {
		c.Unit = &unit
	}
	if !passed {
		c.Status = aidawg.Fail
		if sev == sevWarning {
			c.Status = aidawg.Warn
		}
		c.Fix = &fix
	}
	return c
}

func num(v float64) *float64 { r := round(v, 2); return &r }

func loudnessCheck(r *audio.Report, targetLufs, tolerance float64, why string) aidawg.QualityCheck {
	target := fmt.Sprintf("%g LUFS ±%g (%s)", targetLufs, tolerance, why)
	if r.IntegratedLufs == nil {
		return check("integrated-loudness", sevError, false, nil, "LUFS", target,
			"The track is silent to a loudness meter: no 400 ms block is above -70 LUFS.",
			"Check that the export contains the mix and is not muted.")
	}
	l := *r.IntegratedLufs
	diff := l - targetLufs
	if math.Abs(diff) <= tolerance {
		return check("integrated-loudness", sevError, true, num(l), "LUFS", target,
			fmt.Sprintf("Integrated loudness is %.1f LUFS, within %g LU of %g.", l, tolerance, targetLufs), "")
	}
	if diff > 0 {
		return check("integrated-loudness", sevError, false, num(l), "LUFS", target,
			fmt.Sprintf("Integrated loudness is %.1f LUFS, %.1f LU above %g; it will be turned down.", l, diff, targetLufs),
			fmt.Sprintf("Lower the master by %.1f dB, or ease the limiter, to reach %g LUFS.", diff, targetLufs))
	}
	return check("integrated-loudness", sevError, false, num(l), "LUFS", target,
		fmt.Sprintf("Integrated loudness is %.1f LUFS, %.1f LU below %g.", l, -diff, targetLufs),
		fmt.Sprintf("Raise the master by %.1f dB with a limiter, keeping the true peak within its ceiling.", -diff))
}

func truePeakCheck(r *audio.Report, ceilingDbtp float64) aidawg.QualityCheck {
	tp := r.TruePeakDbtp
	target := fmt.Sprintf("at most %g dBTP", ceilingDbtp)
	if tp <= ceilingDbtp {
		return check("true-peak", sevError, true, num(tp), "dBTP", target,
			fmt.Sprintf("True peak is %.1f dBTP, within the limit.", tp), "")
	}
	return check("true-peak", sevError, false, num(tp), "dBTP", target,
		fmt.Sprintf("True peak is %.1f dBTP, %.1f dB over %g; it will clip when encoded or resampled.", tp, tp-ceilingDbtp, ceilingDbtp),
		fmt.Sprintf("Lower the limiter's ceiling by %.1f dB, to %g dBTP, with true-peak detection on.", tp-ceilingDbtp, ceilingDbtp))
}

func lraCheck(r *audio.Report) aidawg.QualityCheck {
	target := fmt.Sprintf("reported; at most %g LU is easy to follow (EBU Tech 3343)", broadcastMaxLRA)
	if r.LoudnessRangeLu == nil {
		return check("loudness-range", sevWarning, true, nil, "LU", target, "The track is too short or quiet for a loudness range.", "")
	}
	lra := *r.LoudnessRangeLu
	if lra <= broadcastMaxLRA {
		return check("loudness-range", sevWarning, true, num(lra), "LU", target, fmt.Sprintf("Loudness range is %.1f LU.", lra), "")
	}
	return check("loudness-range", sevWarning, false, num(lra), "LU", target,
		fmt.Sprintf("Loudness range is %.1f LU; quiet passages will be lost on ordinary receivers.", lra),
		fmt.Sprintf("Compress the dynamics by about %.0f LU, lifting the quietest passages.", lra-broadcastMaxLRA))
}

func clippingCheck(r *audio.Report) aidawg.QualityCheck {
	runs := float64(r.Clipping.Runs)
	if r.Clipping.Runs == 0 {
		return check("clipping", sevError, true, &runs, "runs", "no clipped runs", "No run of 3 or more samples at full scale.", "")
	}
	at := ""
	if r.Clipping.FirstSeconds != nil {
		at = fmt.Sprintf(", the first at %.2f s", *r.Clipping.FirstSeconds)
	}
	return check("clipping", sevError, false, &runs, "runs", "no clipped runs",
		fmt.Sprintf("%d runs of 3 or more samples sit at full scale%s.", r.Clipping.Runs, at),
		"Lower the level into the final limiter, or set its ceiling below 0 dBFS, and export again.")
}

func sampleRateCheck(r *audio.Report) aidawg.QualityCheck {
	rate := float64(r.SampleRateHz)
	target := fmt.Sprintf("at least %d Hz", masteringMinRateHz)
	if r.SampleRateHz >= masteringMinRateHz {
		return check("sample-rate", sevError, true, &rate, "Hz", target, fmt.Sprintf("Sample rate is %d Hz.", r.SampleRateHz), "")
	}
	return check("sample-rate", sevError, false, &rate, "Hz", target,
		fmt.Sprintf("Sample rate is %d Hz, below what distributors accept.", r.SampleRateHz),
		fmt.Sprintf("Export the master at %d Hz or higher from the session's own rate.", masteringMinRateHz))
}

func bitDepthCheck(r *audio.Report) aidawg.QualityCheck {
	target := fmt.Sprintf("at least %d bit, lossless", masteringMinBits)
	if r.BitDepth == 0 {
		return check("bit-depth", sevError, false, nil, "bit", target,
			fmt.Sprintf("The file is %s, a lossy format with no bit depth.", r.Format),
			"Deliver the master as lossless WAV or FLAC, 16 or 24 bit.")
	}
	bits := float64(r.BitDepth)
	if r.BitDepth >= masteringMinBits {
		return check("bit-depth", sevError, true, &bits, "bit", target, fmt.Sprintf("Bit depth is %d.", r.BitDepth), "")
	}
	return check("bit-depth", sevError, false, &bits, "bit", target, fmt.Sprintf("Bit depth is %d.", r.BitDepth),
		"Export the master at 16 or 24 bit with dither.")
}

func dcOffsetCheck(r *audio.Report) aidawg.QualityCheck {
	worst := audio.DbFloor
	for _, dc := range r.DcOffsetDbfs {
		worst = math.Max(worst, dc)
	}
	target := fmt.Sprintf("below %g dBFS in every channel", masteringMaxDcDbfs)
	if worst < masteringMaxDcDbfs {
		return check("dc-offset", sevWarning, true, num(worst), "dBFS", target, fmt.Sprintf("Largest DC offset is %.1f dBFS.", worst), "")
	}
	return check("dc-offset", sevWarning, false, num(worst), "dBFS", target,
		fmt.Sprintf("DC offset reaches %.1f dBFS, which wastes headroom and thumps at edits.", worst),
		"Put a DC-blocking high-pass filter (a few Hz) on the master bus and export again.")
}

func silenceGapCheck(r *audio.Report) aidawg.QualityCheck {
	target := fmt.Sprintf("no silence longer than %g s inside the track", masteringMaxGap)
	gap := 0.0
	if r.LongestGap != nil {
		gap = r.LongestGap.DurationSeconds
	}
	if gap <= masteringMaxGap {
		return check("silence-gap", sevWarning, true, num(gap), "s", target, fmt.Sprintf("Longest silence inside the track is %.1f s.", gap), "")
	}
	return check("silence-gap", sevWarning, false, num(gap), "s", target,
		fmt.Sprintf("%.1f s of silence starts at %.1f s inside the track; players may take it for the end.", gap, r.LongestGap.StartSeconds),
		"Shorten the gap, or split the file into separate tracks there.")
}
