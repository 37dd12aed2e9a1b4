package music

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services/jobs"
)

// JobRunner renders a job's track with g and keeps its audio as the job's artifact.
func JobRunner(g Generator) jobs.Runner {
	return func(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
		var params GenerateParams
		if err := json.Unmarshal(j.Params, &params); err != nil {
			return jobs.Outcome{}, err
		}
		track, audio, err := g.Generate(ctx, params, func(pct int, msg string, remaining time.Duration) error {
			return p.Report(ctx, pct, msg, remaining)
		})
		if err != nil {
			return jobs.Outcome{}, err
		}
		return jobs.Outcome{
			Result: track,
			Artifacts: []jobs.NewArtifact{{
				Name: FileName(track.Title) + ".wav", ContentType: "audio/wav", Data: bytes.NewReader(audio),
			}},
		}, nil
	}
}

// FileName makes a download name of a title: lower-case letters and digits joined by dashes.
func FileName(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	if s := strings.Trim(b.String(), "-"); s != "" {
		return s
	}
	return "track"
}
