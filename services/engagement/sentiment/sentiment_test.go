package sentiment

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		c    float64
		want Label
	}{
		{0.05, LabelPositive}, {0.9, LabelPositive}, {0.0499, LabelNeutral}, {0, LabelNeutral},
		{-0.0499, LabelNeutral}, {-0.05, LabelNegative}, {-1, LabelNegative},
	} {
		assert.Equal(t, tc.want, Classify(tc.c), "%v", tc.c)
	}
}

// scored builds scored texts with chosen compounds, so aggregation tests do
// not depend on the lexicon.
func scored(source string, compounds ...float64) []Scored {
	out := make([]Scored, len(compounds))
	for i, c := range compounds {
		out[i] = Scored{Text: Text{Source: source, Body: "x"}, Score: Score{Compound: c}, Label: Classify(c)}
	}
	return out
}

func TestGroupLabel(t *testing.T) {
	for _, tc := range []struct {
		name      string
		compounds []float64
		want      Label
	}{
		{"all positive", []float64{0.5, 0.6, 0.7}, LabelPositive},
		{"all negative", []float64{-0.5, -0.6}, LabelNegative},
		{"neutral mean, few extremes", []float64{0, 0, 0, 0, 0.5, -0.4, 0, 0}, LabelNeutral},
		// 2 of 8 positive and 2 of 8 negative: both shares are exactly 25%.
		{"split at 25% each is mixed", []float64{0.8, 0.8, -0.2, -0.2, 0, 0, 0, 0}, LabelMixed},
		{"split even when mean is positive", []float64{0.9, 0.9, 0.9, -0.1, -0.1}, LabelMixed},
		{"negative share below 25% is not mixed", []float64{0.9, 0.9, 0.9, 0.9, -0.1}, LabelPositive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Summarise(scored("a", tc.compounds...))
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Overall.Label, s.Overall.String())
		})
	}
}

func TestAnalyzeSummary(t *testing.T) {
	a := NewAnalyzer()
	texts := []Text{
		{Source: "youtube", Body: "The book was good."},            // 0.4404
		{Source: "youtube", Body: "Today SUX!"},                    // -0.5461
		{Source: "youtube", Body: "Not bad at all"},                // 0.431
		{Source: "email", Body: "The book was only kind of good."}, // 0.3832
		{Source: "", Body: "I listened on Tuesday."},               // 0, source "unknown"
		{Source: "email", Body: "   "},                             // blank: skipped
	}
	s, err := a.Analyze(texts)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Skipped)
	assert.Equal(t, 5, s.Overall.N)
	assert.InDelta(t, (0.4404-0.5461+0.431+0.3832+0)/5, s.Overall.MeanCompound, 1e-3)
	assert.Equal(t, Distribution{Total: 5, Positive: 3, Neutral: 1, Negative: 1,
		PositiveShare: 0.6, NeutralShare: 0.2, NegativeShare: 0.2}, s.Overall.Distribution)
	assert.Equal(t, LabelPositive, s.Overall.Label)

	require.Len(t, s.BySource, 3)
	assert.Equal(t, "youtube", s.BySource[0].Source)
	assert.Equal(t, 3, s.BySource[0].N)
	// 2 positive and 1 negative: both shares are at least 25%, so mixed.
	assert.Equal(t, LabelMixed, s.BySource[0].Label)
	assert.Equal(t, "email", s.BySource[1].Source)
	assert.Equal(t, LabelPositive, s.BySource[1].Label)
	assert.Equal(t, "unknown", s.BySource[2].Source)
	assert.Equal(t, LabelNeutral, s.BySource[2].Label)
	assert.Len(t, s.Texts, 5)
}

func TestAnalyzeEmpty(t *testing.T) {
	a := NewAnalyzer()
	_, err := a.Analyze(nil)
	assert.ErrorIs(t, err, ErrNoTexts)
	s, err := a.Analyze([]Text{{Body: " "}, {Body: ""}})
	assert.ErrorIs(t, err, ErrNoTexts)
	assert.Equal(t, 2, s.Skipped)
	_, err = Summarise(nil)
	assert.ErrorIs(t, err, ErrNoTexts)
}
