package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/handlers/aidawgapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/automation"
	"github.com/aidawg/jarvis/services/engagement"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/marketing"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/music"
	"github.com/aidawg/jarvis/services/ssrf"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// artifactStore keeps the files the server makes and signs their download links.
type artifactStore struct {
	files *artifacts.Files
	links *artifacts.Signer
}

func openArtifacts(cfg Config) (*artifactStore, error) {
	files, err := artifacts.NewFiles(filepath.Join(cfg.DataDir, "artifacts"))
	if err != nil {
		return nil, err
	}
	key, err := artifactKey(cfg)
	if err != nil {
		return nil, err
	}
	return &artifactStore{files: files, links: artifacts.NewSigner(key, cfg.PublicURL, cfg.ArtifactURLTTL)}, nil
}

// Publish keeps a file a module made; a job that produced it attaches it to itself, which is
// when its download link starts to work on a Jarvis server.
func (s *artifactStore) Publish(ctx context.Context, _, _ string, data io.Reader) (string, int64, error) {
	id := artifacts.NewID()
	n, err := s.files.Put(ctx, id, data)
	if err != nil {
		return "", 0, err
	}
	url, _ := s.links.URL(id, time.Now())
	return url, n, nil
}

// audioSource reads the audio commands point at, within the configured size and time.
func audioSource(cfg Config, store *artifactStore) (*music.Source, error) {
	allow, err := ssrf.ParsePrefixes(cfg.SSRFAllow)
	if err != nil {
		return nil, err
	}
	return &music.Source{Guard: ssrf.New(allow, cfg.AudioFetchTimeout, cfg.AudioMaxBytes), MaxBytes: cfg.AudioMaxBytes,
		Links: store.links, Files: store.files}, nil
}

// EmbeddedModules builds the embedded AI Dawg modules on their own, keeping what they make in
// the data dir and reading tenant data from data.
func EmbeddedModules(cfg Config, log zerolog.Logger, data *tenantdata.Store) (*modules.Runtime, error) {
	store, err := openArtifacts(cfg)
	if err != nil {
		return nil, err
	}
	return embeddedModules(cfg, log, store, data, nil, nil)
}

// embeddedModules builds the embedded AI Dawg modules: the one list of them that both
// `jarvis serve` and `jarvis aidawg serve` use. data is the tenant data the modules answer
// from (the automation module forecasts its stored figures; without data, only the history
// given in a call), outbox the queue re-engagement messages are delivered through, and
// analyses, when not nil, the audio-analysis pool analyses pass through; any may be nil.
func embeddedModules(cfg Config, log zerolog.Logger, store *artifactStore, data *tenantdata.Store, outbox engagement.Outbox,
	analyses music.Gate) (*modules.Runtime, error) {
	contract, err := modules.LoadContract()
	if err != nil {
		return nil, err
	}
	source, err := audioSource(cfg, store)
	if err != nil {
		return nil, err
	}
	var series automation.Series
	if data != nil {
		series = data
	}
	musicModule := music.NewModule(music.Generator{Speed: cfg.EmbeddedMusicSpeed}, source, store, cfg.AudioMaxSeconds)
	if analyses != nil {
		musicModule.LimitAnalyses(analyses)
	}
	return modules.NewRuntime(contract, log,
		musicModule,
		marketing.NewModule(data),
		automation.NewModule(series),
		engagementModule(cfg, data, outbox),
	)
}

func engagementModule(cfg Config, data *tenantdata.Store, outbox engagement.Outbox) *engagement.Module {
	if data == nil {
		return engagement.NewModule(nil, outbox, cfg.EngagementWebhookURL)
	}
	return engagement.NewModule(data, outbox, cfg.EngagementWebhookURL)
}

// outboxOf hands re-engagement deliveries to the job engine, which is built after the modules
// that use it.
type outboxOf struct{ engine *jobs.Service }

func (o *outboxOf) Deliver(ctx context.Context, owner services.Owner, typ, url string, events []jobs.Event, at time.Time) (string, error) {
	if o.engine == nil {
		return "", errors.New("the delivery queue is not started")
	}
	return o.engine.Deliver(ctx, owner, typ, url, events, at)
}

// ServeEmbeddedModules serves the embedded modules alone on the AI Dawg contract on ln, so
// that they stand in for the backend, until ctx is done; then it drains like Serve. The tracks
// they generate are downloaded from its own /artifacts/ links.
func ServeEmbeddedModules(ctx context.Context, ln net.Listener, cfg Config, log zerolog.Logger) error {
	store, err := openArtifacts(cfg)
	if err != nil {
		return err
	}
	db, _, err := OpenDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	rt, err := embeddedModules(cfg, log, store, tenantdata.NewStore(db), nil, nil)
	if err != nil {
		return err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(artifacts.Path+":id", handlers.DownloadArtifact(store.links, renderedTracks{}, store.files))
	e.Any("/*", echo.WrapHandler(aidawgapi.Handler(rt, log, aidawgapi.DefaultBodyLimit)))
	return serveUntil(ctx, ln, e, cfg, func() {})
}

// renderedTracks names the files `jarvis aidawg serve` keeps, which are all rendered tracks.
type renderedTracks struct{}

func (renderedTracks) Artifact(_ context.Context, id string) (jobs.Artifact, error) {
	return jobs.Artifact{ID: id, Name: fmt.Sprintf("%s.wav", id), ContentType: "audio/wav"}, nil
}
