package app

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/music"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/webhook"
)

// Migrate brings the database's schema up to date: the application's tables and River's.
func Migrate(ctx context.Context, db *storage.DB) ([]string, error) {
	applied, err := db.Migrate(ctx)
	if err != nil {
		return applied, err
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		return applied, fmt.Errorf("job queue migrations: %w", err)
	}
	return applied, nil
}

// jobEngine is the job service and what it was built from.
type jobEngine struct {
	svc   *jobs.Service
	files *artifacts.Files
	links *artifacts.Signer
}

func newJobEngine(cfg Config, db *storage.DB, guard *ssrf.Guard, maintenance []func(context.Context) error, log zerolog.Logger) (*jobEngine, error) {
	files, err := artifacts.NewFiles(filepath.Join(cfg.DataDir, "artifacts"))
	if err != nil {
		return nil, err
	}
	key, err := artifactKey(cfg)
	if err != nil {
		return nil, err
	}
	secret, err := webhookSecret(cfg)
	if err != nil {
		return nil, err
	}
	links := artifacts.NewSigner(key, cfg.PublicURL, cfg.ArtifactURLTTL)
	generator := music.Generator{Speed: cfg.EmbeddedMusicSpeed}
	svc, err := jobs.New(jobs.Config{
		InstanceID:          cfg.InstanceID,
		Workers:             cfg.JobWorkers,
		MaxAttempts:         cfg.JobMaxAttempts,
		JobTimeout:          cfg.JobTimeout,
		RescueAfter:         cfg.JobRescueAfter,
		TTL:                 cfg.JobTTL,
		MaintenanceInterval: cfg.MaintenanceInterval,
		RetryBackoff:        cfg.JobRetryBackoff,
		CallbackAttempts:    cfg.CallbackAttempts,
		CallbackBackoff:     cfg.CallbackBackoff,
	}, jobs.Deps{
		DB: db, Files: files, Links: links, Guard: guard, Secret: secret, Log: log, Maintenance: maintenance,
		Runners: map[string]jobs.Runner{
			"music-generation": musicRunner(generator),
		},
	})
	if err != nil {
		return nil, err
	}
	return &jobEngine{svc: svc, files: files, links: links}, nil
}

// musicRunner renders a track with the embedded generator and keeps its audio as an artifact.
func musicRunner(g music.Generator) jobs.Runner {
	return func(ctx context.Context, j jobs.Job, p *jobs.Progress) (jobs.Outcome, error) {
		var params music.GenerateParams
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
				Name: slug(track.Title) + ".wav", ContentType: "audio/wav", Data: bytes.NewReader(audio),
			}},
		}, nil
	}
}

func slug(title string) string {
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

func artifactKey(cfg Config) ([]byte, error) {
	if cfg.ArtifactSecret != "" {
		return hex.DecodeString(cfg.ArtifactSecret)
	}
	return artifacts.LoadOrCreateKey(filepath.Join(cfg.DataDir, "keys", "artifact.key"))
}

// webhookSecret is the configured secret, or one kept in the data dir so that callbacks stay
// verifiable across restarts of a single server.
func webhookSecret(cfg Config) (webhook.Secret, error) {
	if cfg.WebhookSecret != "" {
		return webhook.ParseSecret(cfg.WebhookSecret)
	}
	path := filepath.Join(cfg.DataDir, "keys", "webhook.secret")
	if b, err := os.ReadFile(path); err == nil {
		return webhook.ParseSecret(strings.TrimSpace(string(b)))
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	s := webhook.NewSecret()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(s.String()+"\n"), 0o600); err != nil {
		return nil, err
	}
	return s, nil
}
