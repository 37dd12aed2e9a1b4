package app

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/music"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/webhook"
)

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
		HeartbeatInterval:   cfg.JobHeartbeatInterval,
		StaleAfter:          cfg.JobStaleAfter,
		TTL:                 cfg.JobTTL,
		MaintenanceInterval: cfg.MaintenanceInterval,
		RetryBackoff:        cfg.JobRetryBackoff,
		InlineWait:          cfg.SyncWait,
		CallbackAttempts:    cfg.CallbackAttempts,
		CallbackBackoff:     cfg.CallbackBackoff,
	}, jobs.Deps{
		DB: db, Files: files, Links: links, Guard: guard, Secret: secret, Log: log, Maintenance: maintenance,
		Runners: map[string]jobs.Runner{
			jobs.TypeMusicGeneration: music.JobRunner(generator),
		},
	})
	if err != nil {
		return nil, err
	}
	return &jobEngine{svc: svc, files: files, links: links}, nil
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
