package handlers

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/music"
)

type fixedLinks struct{}

func (fixedLinks) URL(id string, now time.Time) (string, time.Time) {
	return "https://jarvis.example.com/artifacts/" + id, now.Add(time.Hour)
}

// A completed job's stored result reaches the contract's Track field by field: every field of
// the service's track is set here, and every field of the contract's Track must come out set,
// so a field added or renamed on one side without the other fails this test.
func TestJobResultCarriesEveryField(t *testing.T) {
	genre, mood := "ambient", "calm"
	stored := music.Track{
		ID: "trk_1", Title: "Night Drive", Prompt: "a calm night drive", DurationSeconds: 30,
		Genre: genre, Mood: mood, Tempo: 96, Key: "A minor", Seed: 42,
		Sections:     []music.Section{{Name: "intro", StartSeconds: 0, EndSeconds: 8.5}, {Name: "verse", StartSeconds: 8.5, EndSeconds: 30}},
		LoudnessLufs: -14.1, TruePeakDbtp: -1.3, ServedBy: "remote",
	}
	raw, err := json.Marshal(stored)
	require.NoError(t, err)
	s := &Server{links: fixedLinks{}}
	j := jobs.Job{ID: "job_1", Type: jobs.TypeMusicGeneration, Status: jobs.Completed, Result: raw,
		Artifacts: []jobs.Artifact{{ID: "art_1", Name: "night-drive.wav", ContentType: "audio/wav", SizeBytes: 10}}}

	out, err := s.apiJob(j)
	require.NoError(t, err)
	require.NotNil(t, out.Result)
	_, by, err := s.jobResult(j, out.Artifacts)
	require.NoError(t, err)
	assert.Equal(t, modules.ServedByRemote, by, "the backend that made the track is kept")
	require.NotNil(t, out.Result.Track)
	track := *out.Result.Track
	assert.Equal(t, jarvis.Track{
		Id: "trk_1", Title: "Night Drive", Prompt: "a calm night drive", DurationSeconds: 30,
		Genre: &genre, Mood: &mood, Tempo: 96, Key: "A minor", Seed: 42,
		Sections: []jarvis.Section{{Name: "intro", StartSeconds: 0, EndSeconds: 8.5}, {Name: "verse", StartSeconds: 8.5, EndSeconds: 30}},
		Audio:    track.Audio, LoudnessLufs: ptrTo(-14.1), TruePeakDbtp: ptrTo(-1.3),
	}, track)
	require.NotNil(t, track.Audio, "the audio artifact is linked")
	assert.Equal(t, "https://jarvis.example.com/artifacts/art_1", track.Audio.Url)

	v := reflect.ValueOf(track)
	for i := range v.NumField() {
		assert.False(t, v.Field(i).IsZero(), "Track.%s is never filled from a job's result", v.Type().Field(i).Name)
	}
}

func TestJobResultThatCannotBeReadIsAnError(t *testing.T) {
	s := &Server{links: fixedLinks{}}
	_, err := s.apiJob(jobs.Job{ID: "job_2", Type: jobs.TypeMusicGeneration, Status: jobs.Completed, Result: []byte(`{"tempo":"fast"}`)})
	assert.ErrorContains(t, err, "job_2")
}

func ptrTo[T any](v T) *T { return &v }
