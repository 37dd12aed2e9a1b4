package app

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/automation"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/music"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/webhook"
)

// newJobEngine builds the job service; long actions reach the AI Dawg modules through router.
func newJobEngine(cfg Config, db *storage.DB, store *artifactStore, router *modules.Router, guard *ssrf.Guard,
	maintenance []func(context.Context) error, admission jobs.Admission, log zerolog.Logger, workflowRuns jobs.Runner, periodic ...jobs.Periodic) (*jobs.Service, error) {
	secret, err := webhookSecret(cfg)
	if err != nil {
		return nil, err
	}
	source, err := audioSource(cfg, store)
	if err != nil {
		return nil, err
	}
	generate := func(ctx context.Context, p aidawg.GenerateMusicParams) (aidawg.GenerateMusicResult, modules.ServedBy, error) {
		return modules.Call(ctx, router, modules.CmdGenerateMusic, p)
	}
	return jobs.New(jobs.Config{
		InstanceID:          cfg.InstanceID,
		Workers:             cfg.JobWorkers,
		MaxWorkers:          cfg.workerCeiling(),
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
		AllowHTTPCallbacks:  cfg.Env == "development",
	}, jobs.Deps{
		DB: db, Files: store.files, Links: store.links, Guard: guard, Secret: secret, Log: log, Maintenance: maintenance,
		Periodic:  periodic,
		Admission: admission,
		Runners: map[string]jobs.Runner{
			jobs.TypeMusicGeneration: music.JobRunner(generate, source, cfg.JobTimeout),
			jobs.TypeForecast: automation.ForecastRunner(func(ctx context.Context, p aidawg.GenerateForecastParams) (aidawg.GenerateForecastResult, modules.ServedBy, error) {
				return modules.Call(ctx, router, modules.CmdGenerateForecast, p)
			}, cfg.JobTimeout),
			jobs.TypeWorkflowRun: workflowRuns,
		},
	})
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
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(s.String()+"\n"), 0o600); err != nil {
		return nil, err
	}
	return s, nil
}
