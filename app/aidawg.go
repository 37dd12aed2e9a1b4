package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/handlers/aidawgapi"
	"github.com/aidawg/jarvis/services/artifacts"
	"github.com/aidawg/jarvis/services/automation"
	"github.com/aidawg/jarvis/services/jobs"
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
// the data dir.
func EmbeddedModules(cfg Config, log zerolog.Logger) (*modules.Runtime, error) {
	store, err := openArtifacts(cfg)
	if err != nil {
		return nil, err
	}
	return embeddedModules(cfg, log, store, nil, nil)
}

// embeddedModules builds the embedded AI Dawg modules: the one list of them that both
// `jarvis serve` and `jarvis aidawg serve` use. The automation module forecasts the stored
// figures of data; without data (nil), only the history given in a call. Analyses pass
// through analyses when it is not nil (the audio-analysis pool).
func embeddedModules(cfg Config, log zerolog.Logger, store *artifactStore, data *tenantdata.Store, analyses music.Gate) (*modules.Runtime, error) {
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
		automation.NewModule(series),
	)
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
	rt, err := embeddedModules(cfg, log, store, tenantdata.NewStore(db), nil)
	if err != nil {
		return err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(artifacts.Path+":id", handlers.DownloadArtifact(store.links, renderedTracks{}, store.files))
	e.Any("/*", echo.WrapHandler(aidawgapi.Handler(rt, log, aidawgapi.DefaultBodyLimit)))
	return serveUntil(ctx, ln, e, cfg)
}

// renderedTracks names the files `jarvis aidawg serve` keeps, which are all rendered tracks.
type renderedTracks struct{}

func (renderedTracks) Artifact(_ context.Context, id string) (jobs.Artifact, error) {
	return jobs.Artifact{ID: id, Name: fmt.Sprintf("%s.wav", id), ContentType: "audio/wav"}, nil
}
