package music

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
)

// Generate carries out generate-music on whichever backend the router picks.
type Generate func(ctx context.Context, p aidawg.GenerateMusicParams) (aidawg.GenerateMusicResult, modules.ServedBy, error)

// JobRunner runs a generation job: generate-music through generate, within budget (a job may
// take far longer than a caller waits inline), then the track's audio kept as the job's
// artifact. Audio in Jarvis's own store (what the embedded module renders) is linked where it
// lies; a remote backend's is fetched from its link through source.
func JobRunner(generate Generate, source *Source, budget time.Duration) jobs.Runner {
	return func(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
		var params GenerateParams
		if err := json.Unmarshal(j.Params, &params); err != nil {
			return jobs.Outcome{}, fmt.Errorf("job %s: stored params: %w", j.ID, err)
		}
		ctx = WithProgress(modules.WithBudget(ctx, budget), func(pct int, msg string, remaining time.Duration) error {
			return p.Report(ctx, pct, msg, remaining)
		})
		res, servedBy, err := generate(ctx, contractParams(params))
		if err != nil {
			return jobs.Outcome{}, err
		}
		track := trackOf(res.Track, servedBy)
		out := jobs.Outcome{Result: track}
		if a := res.Track.Audio; a != nil {
			art, err := artifactOf(ctx, source, *a, FileName(track.Title)+".wav")
			if err != nil {
				return jobs.Outcome{}, err
			}
			out.Artifacts = []jobs.NewArtifact{art}
		}
		return out, nil
	}
}

func contractParams(p GenerateParams) aidawg.GenerateMusicParams {
	out := aidawg.GenerateMusicParams{Prompt: p.Prompt, Key: p.Key}
	if p.Duration != 0 {
		d := p.Duration
		out.Duration = &d
	}
	if p.Genre != "" {
		g := p.Genre
		out.Genre = &g
	}
	if p.Mood != "" {
		m := p.Mood
		out.Mood = &m
	}
	if p.Tempo != 0 {
		t := p.Tempo
		out.Tempo = &t
	}
	if p.Seed != nil {
		s := int(*p.Seed)
		out.Seed = &s
	}
	return out
}

func artifactOf(ctx context.Context, source *Source, a aidawg.AudioRef, name string) (jobs.NewArtifact, error) {
	contentType := a.ContentType
	if !strings.HasPrefix(contentType, "audio/") {
		contentType = "audio/wav"
	}
	if source.Links != nil {
		if id, ours, err := source.Links.Own(a.Url, time.Now()); ours {
			if err != nil {
				return jobs.NewArtifact{}, err
			}
			return jobs.NewArtifact{Name: name, ContentType: contentType, ExistingID: id}, nil
		}
	}
	body, err := source.Open(ctx, a.Url)
	if err != nil {
		return jobs.NewArtifact{}, &services.Error{Code: services.CodeBadGateway, Err: err,
			Detail: "AI Dawg made the track but its audio could not be fetched: " + detailOf(err)}
	}
	// The job engine reads the body to its end while storing it, then the body is done with.
	return jobs.NewArtifact{Name: name, ContentType: contentType, Data: closingReader{body}}, nil
}

// closingReader closes its body once it has been read to the end.
type closingReader struct{ rc io.ReadCloser }

func (c closingReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if err != nil {
		c.rc.Close()
	}
	return n, err
}
