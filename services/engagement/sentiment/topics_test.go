package sentiment

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// topicCorpus mentions three known topics: "live show" (4 texts, happy),
// "sound quality" (3 texts, unhappy) and "new album" (2 texts), plus noise.
var topicCorpus = []Text{
	{Body: "The live show in Berlin was amazing!"},
	{Body: "Loved the live show, best night ever."},
	{Body: "Another live show please, it was so much fun"},
	{Body: "That live show made my year :)"},
	{Body: "The sound quality on the stream is terrible."},
	{Body: "Sound quality keeps dropping, really annoying"},
	{Body: "Why is the sound quality so bad today?"},
	{Body: "When is the new album coming out?"},
	{Body: "The new album sounds great."},
	{Body: "I listened twice on the bus."},
}

func TestTopicsFindsKnownPhrases(t *testing.T) {
	a := NewAnalyzer()
	s, err := a.Analyze(topicCorpus)
	require.NoError(t, err)
	topics, err := a.Topics(s.Texts, TopicOptions{})
	require.NoError(t, err)
	require.Len(t, topics, 3, "%+v", topics)

	assert.Equal(t, "live show", topics[0].Phrase)
	assert.Equal(t, 4, topics[0].Count)
	assert.Equal(t, LabelPositive, topics[0].Label)
	assert.Greater(t, topics[0].MeanCompound, 0.3)
	assert.Contains(t, topics[0].Sample, "live show")

	assert.Equal(t, "sound quality", topics[1].Phrase)
	assert.Equal(t, 3, topics[1].Count)
	assert.Equal(t, LabelNegative, topics[1].Label)
	assert.Contains(t, topics[1].Sample, "ound quality")

	assert.Equal(t, "new album", topics[2].Phrase)
	assert.Equal(t, 2, topics[2].Count)
	// RAKE: "new" and "album" each occur twice, both times inside a
	// three-word candidate ("new album coming", "new album sounds"), so each
	// has deg/freq = 6/2 = 3 and the phrase scores 6.
	assert.InDelta(t, 6.0, topics[2].Score, 1e-12)
}

func TestTopicsMeanIsOverTextsContainingThePhrase(t *testing.T) {
	a := NewAnalyzer()
	s, err := a.Analyze(topicCorpus)
	require.NoError(t, err)
	topics, err := a.Topics(s.Texts, TopicOptions{})
	require.NoError(t, err)
	want := 0.0
	for _, x := range s.Texts[4:7] {
		want += x.Score.Compound
	}
	assert.InDelta(t, want/3, topics[1].MeanCompound, 1e-12)
}

func TestTopicsKeepSentimentWords(t *testing.T) {
	a := NewAnalyzer()
	s, err := a.Analyze([]Text{{Body: "great song"}, {Body: "Great song!"}, {Body: "song"}})
	require.NoError(t, err)
	phrases := func(ts []Topic) (out []string) {
		for _, x := range ts {
			out = append(out, x.Phrase)
		}
		return out
	}
	topics, err := a.Topics(s.Texts, TopicOptions{KeepSentimentWords: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"song", "great song"}, phrases(topics))
	topics, err = a.Topics(s.Texts, TopicOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"song"}, phrases(topics))
	assert.Equal(t, 3, topics[0].Count)
}

func TestTopicsOptionsAndErrors(t *testing.T) {
	a := NewAnalyzer()
	_, err := a.Topics(nil, TopicOptions{})
	assert.ErrorIs(t, err, ErrNoTexts)

	s, err := a.Analyze([]Text{{Body: "the and of"}, {Body: "12 34"}})
	require.NoError(t, err)
	_, err = a.Topics(s.Texts, TopicOptions{})
	assert.ErrorIs(t, err, ErrNoTopics)

	s, err = a.Analyze(topicCorpus)
	require.NoError(t, err)
	topics, err := a.Topics(s.Texts, TopicOptions{Max: 1})
	require.NoError(t, err)
	assert.Len(t, topics, 1)
	topics, err = a.Topics(s.Texts, TopicOptions{MinCount: 4})
	require.NoError(t, err)
	assert.Len(t, topics, 1)
}

func TestCandidates(t *testing.T) {
	got := candidates("The NEW album—it's out; buy it at 9pm, track 2!", nil)
	assert.Equal(t, [][]string{{"new", "album"}, {"buy"}, {"9pm"}, {"track"}}, got)
}
