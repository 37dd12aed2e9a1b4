package music

import (
	"bytes"
	"context"
	"io"
	"strings"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services/modules"
)

// Publisher keeps a file a command made and says where it can be downloaded.
type Publisher interface {
	Publish(ctx context.Context, name, contentType string, data io.Reader) (url string, sizeBytes int64, err error)
}

// Module is the embedded AI Dawg music module: it generates tracks, and measures and checks
// the audio a command points at.
type Module struct {
	gen        Generator
	source     *Source
	publish    Publisher
	maxSeconds int
	analyses   Gate // nil: analyses are not limited
}

// Gate limits how many analyses run at once; Enter waits for a slot until ctx ends.
type Gate interface {
	Enter(ctx context.Context) (release func(), err error)
}

// LimitAnalyses makes every analysis pass through g first.
func (m *Module) LimitAnalyses(g Gate) *Module {
	m.analyses = g
	return m
}

// NewModule builds the music module. Audio is read from source and decoded up to maxSeconds;
// generated tracks are kept by publish.
func NewModule(gen Generator, source *Source, publish Publisher, maxSeconds int) *Module {
	return &Module{gen: gen, source: source, publish: publish, maxSeconds: maxSeconds}
}

func (m *Module) Name() string { return "music" }

func (m *Module) Register(reg *modules.Registrar) {
	modules.Handle(reg, modules.CmdGenerateMusic, m.generate)
	modules.Handle(reg, modules.CmdAnalyzeTrack, m.analyzeTrack)
	modules.Handle(reg, modules.CmdAnalyzeVocal, m.analyzeVocal)
	modules.Handle(reg, modules.CmdValidateQuality, m.validateQuality)
}

type progressKey struct{}

// WithProgress makes an embedded generation under ctx report its progress to report; a call
// that crosses to a remote backend reports nothing.
func WithProgress(ctx context.Context, report Reporter) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

func progressFrom(ctx context.Context) Reporter {
	if r, ok := ctx.Value(progressKey{}).(Reporter); ok {
		return r
	}
	return func(int, string, time.Duration) error { return nil }
}

func (m *Module) generate(ctx context.Context, p aidawg.GenerateMusicParams) (aidawg.GenerateMusicResult, error) {
	params := GenerateParams{Prompt: p.Prompt, Key: p.Key}
	if p.Duration != nil {
		params.Duration = *p.Duration
	}
	if p.Genre != nil {
		params.Genre = *p.Genre
	}
	if p.Mood != nil {
		params.Mood = *p.Mood
	}
	if p.Tempo != nil {
		params.Tempo = *p.Tempo
	}
	if p.Seed != nil {
		seed := int64(*p.Seed)
		params.Seed = &seed
	}
	t, wav, err := m.gen.Generate(ctx, params, progressFrom(ctx))
	if err != nil {
		return aidawg.GenerateMusicResult{}, err
	}
	name, contentType := FileName(t.Title)+".wav", "audio/wav"
	url, size, err := m.publish.Publish(ctx, name, contentType, bytes.NewReader(wav))
	if err != nil {
		return aidawg.GenerateMusicResult{}, modules.ExecutionFailed("The rendered track could not be kept.", err)
	}
	out := contractTrack(t)
	sz := int(size)
	out.Audio = &aidawg.AudioRef{Name: &name, ContentType: contentType, SizeBytes: &sz, Url: url}
	return aidawg.GenerateMusicResult{Track: out}, nil
}

func (m *Module) analyzeTrack(ctx context.Context, p aidawg.AnalyzeTrackParams) (aidawg.AnalyzeTrackResult, error) {
	vocals := p.AnalyzeVocals != nil && *p.AnalyzeVocals
	rep, f := m.measure(ctx, p.AudioUrl, vocals)
	if f != nil {
		return aidawg.AnalyzeTrackResult{}, f
	}
	a := trackAnalysis(rep)
	if vocals {
		v := vocalAnalysis(rep)
		a.Vocals = &v
	}
	return aidawg.AnalyzeTrackResult{Analysis: a}, nil
}

func (m *Module) analyzeVocal(ctx context.Context, p aidawg.AnalyzeVocalParams) (aidawg.AnalyzeVocalResult, error) {
	rep, f := m.measure(ctx, p.AudioUrl, true)
	if f != nil {
		return aidawg.AnalyzeVocalResult{}, f
	}
	return aidawg.AnalyzeVocalResult{Vocals: vocalAnalysis(rep)}, nil
}

func (m *Module) validateQuality(ctx context.Context, p aidawg.ValidateQualityParams) (aidawg.ValidateQualityResult, error) {
	rep, f := m.measure(ctx, p.AudioUrl, false)
	if f != nil {
		return aidawg.ValidateQualityResult{}, f
	}
	standard := aidawg.Streaming
	if p.Standards != nil {
		standard = *p.Standards
	}
	return aidawg.ValidateQualityResult{Report: qualityReport(rep, standard)}, nil
}

// contractTrack is a generated track as the AI Dawg contract has it, without its audio.
func contractTrack(t Track) aidawg.Track {
	out := aidawg.Track{Id: t.ID, Title: t.Title, Prompt: t.Prompt, DurationSeconds: t.DurationSeconds, Tempo: t.Tempo,
		Key: t.Key, Seed: int(t.Seed), Sections: make([]aidawg.Section, len(t.Sections))}
	if t.Genre != "" {
		g := t.Genre
		out.Genre = &g
	}
	if t.Mood != "" {
		m := t.Mood
		out.Mood = &m
	}
	if t.LoudnessLufs != 0 || t.TruePeakDbtp != 0 {
		l, tp := t.LoudnessLufs, t.TruePeakDbtp
		out.LoudnessLufs, out.TruePeakDbtp = &l, &tp
	}
	for i, s := range t.Sections {
		out.Sections[i] = aidawg.Section{Name: s.Name, StartSeconds: s.StartSeconds, EndSeconds: s.EndSeconds}
	}
	return out
}

// trackOf is the contract's track as the service keeps it in a job's result.
func trackOf(t aidawg.Track, servedBy modules.ServedBy) Track {
	out := Track{ID: t.Id, Title: t.Title, Prompt: t.Prompt, DurationSeconds: t.DurationSeconds, Tempo: t.Tempo, Key: t.Key,
		Seed: int64(t.Seed), Sections: make([]Section, len(t.Sections)), ServedBy: string(servedBy)}
	if t.Genre != nil {
		out.Genre = *t.Genre
	}
	if t.Mood != nil {
		out.Mood = *t.Mood
	}
	if t.LoudnessLufs != nil {
		out.LoudnessLufs = *t.LoudnessLufs
	}
	if t.TruePeakDbtp != nil {
		out.TruePeakDbtp = *t.TruePeakDbtp
	}
	for i, s := range t.Sections {
		out.Sections[i] = Section{Name: s.Name, StartSeconds: s.StartSeconds, EndSeconds: s.EndSeconds}
	}
	return out
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
