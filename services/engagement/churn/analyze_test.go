package churn

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var asOf = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) // observation date 2 May at 30 days

func date(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }

// daily returns one active day of minutes per step days in [from, to).
func daily(from, to time.Time, step int, minutes float64) []Day {
	var out []Day
	for d := from; d.Before(to); d = d.AddDate(0, 0, step) {
		out = append(out, Day{Date: d, Sessions: 1, Minutes: minutes, Tracks: 5})
	}
	return out
}

func ptr(t time.Time) *time.Time { return &t }

// fixture is small enough to work out by hand (see TestSegmentsByHand).
func fixture() []Listener {
	jan := date(1, 1)
	return []Listener{
		// A: labelled, stays, listens daily.
		{ID: "A", Plan: "premium", Country: "DE", AgeBand: "18-24", FirstSeen: jan, Labelled: true,
			Activity: daily(jan, asOf, 1, 30)},
		// B: listens daily to 10 May, churns 20 May: inside the window.
		{ID: "B", Plan: "premium", Country: "DE", AgeBand: "25-34", FirstSeen: jan,
			Activity: daily(jan, date(5, 11), 1, 30), ChurnedAt: ptr(date(5, 20))},
		// C: churned 1 April, before the observation date: in neither set.
		{ID: "C", Plan: "free", Country: "US", AgeBand: "18-24", FirstSeen: jan,
			Activity: daily(jan, date(3, 1), 2, 10), ChurnedAt: ptr(date(4, 1))},
		// D: unlabelled, listens every third day.
		{ID: "D", Plan: "free", Country: "US", AgeBand: "25-34", FirstSeen: jan,
			Activity: daily(date(1, 3), asOf, 3, 20)},
		// E: labelled, stays, but only listened on the last 5 days.
		{ID: "E", Plan: "free", Country: "DE", AgeBand: "18-24", FirstSeen: jan, Labelled: true,
			Activity: daily(date(5, 27), asOf, 1, 15)},
		// F: unlabelled, never listened, no attributes.
		{ID: "F", Plan: "family", FirstSeen: jan},
	}
}

func TestSegmentsByHand(t *testing.T) {
	rep, err := Analyze(fixture(), Options{AsOf: asOf, MinSegment: 1})
	require.NoError(t, err)

	// Training: A, B, E (C churned before 2 May; D, F unlabelled).
	// Current: A, D, E, F (B and C churned before asOf).
	assert.Equal(t, 6, rep.Listeners)
	assert.Equal(t, 3, rep.Training)
	assert.Equal(t, 4, rep.Current)
	assert.Equal(t, date(5, 2), rep.ObservationDate)
	assert.False(t, rep.Fitted)
	assert.Contains(t, rep.UnfittedReason, "3 labelled listeners")
	assert.Nil(t, rep.CV)

	p := map[string]float64{}
	for _, s := range rep.Scores {
		p[s.ID] = s.Probability
	}
	require.Len(t, p, 4)
	// A by hand: recency 1, 28 of 28, 90 of 90 days, 28·30 = 840 minutes, flat.
	zA := -1.0 + 0.08*1 - 0.10*28 - 0.02*90 - 0.25*math.Log1p(840)
	assert.InDelta(t, 1/(1+math.Exp(-zA)), p["A"], 1e-12)
	// F by hand: never active since 1 January, 151 days, capped at 60.
	zF := -1.0 + 0.08*60
	assert.InDelta(t, 1/(1+math.Exp(-zF)), p["F"], 1e-12)

	seg := map[string]Segment{}
	for _, s := range rep.Segments {
		seg[s.Dimension+"="+s.Value] = s
	}
	rate := func(k string) float64 {
		require.NotNil(t, seg[k].ObservedRate, k)
		return *seg[k].ObservedRate
	}
	for _, tc := range []struct {
		key       string
		listeners int
		predicted float64
		labelled  int
		churned   int
	}{
		{"plan=premium", 1, p["A"], 2, 1},                 // A current; A, B labelled
		{"plan=free", 2, (p["D"] + p["E"]) / 2, 1, 0},     // D, E current; E labelled
		{"plan=family", 1, p["F"], 0, 0},                  // F
		{"country=DE", 2, (p["A"] + p["E"]) / 2, 3, 1},    // A, E; A, B, E
		{"country=US", 1, p["D"], 0, 0},                   // D (C is gone)
		{"country=unknown", 1, p["F"], 0, 0},              // F
		{"ageBand=18-24", 2, (p["A"] + p["E"]) / 2, 2, 0}, // A, E; A, E
		{"ageBand=25-34", 1, p["D"], 1, 1},                // D; B
		{"plan+country=premium+DE", 1, p["A"], 2, 1},      // A; A, B
		{"plan+country=free+US", 1, p["D"], 0, 0},         // D
		// Current ActiveDays90: F 0, E 5, D 30, A 90 → cuts 0, 5, 30.
		// At 2 May: A 90, B 90 (Q4), E 0 (Q1).
		{"activity=Q1 (least active)", 1, p["F"], 1, 0},
		{"activity=Q2", 1, p["E"], 0, 0},
		{"activity=Q3", 1, p["D"], 0, 0},
		{"activity=Q4 (most active)", 1, p["A"], 2, 1},
	} {
		t.Run(tc.key, func(t *testing.T) {
			s, ok := seg[tc.key]
			require.True(t, ok)
			assert.Equal(t, tc.listeners, s.Listeners)
			assert.InDelta(t, tc.predicted, s.PredictedRate, 1e-12)
			assert.Equal(t, tc.labelled, s.Labelled)
			assert.Equal(t, tc.churned, s.ObservedChurned)
			if tc.labelled == 0 {
				assert.Nil(t, s.ObservedRate)
			} else {
				assert.InDelta(t, float64(tc.churned)/float64(tc.labelled), rate(tc.key), 1e-12)
			}
		})
	}
	assert.Equal(t, 4, rep.Overall.Listeners)
	assert.InDelta(t, (p["A"]+p["D"]+p["E"]+p["F"])/4, rep.Overall.PredictedRate, 1e-12)
	require.NotNil(t, rep.Overall.ObservedRate)
	assert.InDelta(t, 1.0/3, *rep.Overall.ObservedRate, 1e-12)

	// F (p ≈ 0.976) is the one at risk at 0.5.
	assert.Equal(t, 1, rep.AtRisk)
	require.NotEmpty(t, rep.Recommendations)
	assert.Equal(t, "1 of 4 listeners (25%) are at or above the 50% churn-risk threshold: send them a re-engagement message.",
		rep.Recommendations[0].Text)
}

func TestRecommendationsNameSegmentAndFigure(t *testing.T) {
	rep, err := Analyze(fixture(), Options{AsOf: asOf, MinSegment: 1})
	require.NoError(t, err)
	var family *Recommendation
	for i, r := range rep.Recommendations {
		if r.Dimension == "plan" && r.Value == "family" {
			family = &rep.Recommendations[i]
		}
	}
	require.NotNil(t, family, "%+v", rep.Recommendations)
	f := rep.Scores[3].Probability
	ratio := f / rep.Overall.PredictedRate
	require.GreaterOrEqual(t, ratio, 2.0)
	assert.Equal(t, f, family.Figure)
	assert.Equal(t, "Listeners on the family plan have a predicted churn of 98% (about 1 of 1), "+
		times(ratio)+" the average of "+pct(rep.Overall.PredictedRate)+": target them first.", family.Text)

	// With the default MinSegment of 20, no segment of this fixture is large
	// enough to be called out; only the at-risk line remains.
	rep, err = Analyze(fixture(), Options{AsOf: asOf})
	require.NoError(t, err)
	require.Len(t, rep.Recommendations, 1)
	assert.Equal(t, "all", rep.Recommendations[0].Dimension)
}

func TestUnlabelledDataIsUnfitted(t *testing.T) {
	ls := Synthesize(5, 400, asOf)
	for i := range ls {
		ls[i].Labelled, ls[i].ChurnedAt = false, nil
	}
	rep, err := Analyze(ls, Options{AsOf: asOf})
	require.NoError(t, err)
	assert.False(t, rep.Fitted)
	assert.False(t, rep.Model.Fitted)
	assert.Equal(t, 0, rep.Training)
	assert.Contains(t, rep.UnfittedReason, "0 labelled listeners")
	assert.Nil(t, rep.CV)
	assert.Equal(t, 400, rep.Current)
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"fitted":false`)
}

func TestLabelledSyntheticDataIsFitted(t *testing.T) {
	rep, err := Analyze(Synthesize(7, 3000, asOf), Options{AsOf: asOf, Seed: 1})
	require.NoError(t, err)
	require.True(t, rep.Fitted, rep.UnfittedReason)
	require.NotNil(t, rep.CV)
	assert.GreaterOrEqual(t, rep.CV.AUC, 0.80)
	assert.Equal(t, "recencyDays", rep.Factors[0].Name)
	// The known process makes free listeners churn more than premium ones.
	var free, premium Segment
	for _, s := range rep.Segments {
		switch s.Dimension + "=" + s.Value {
		case "plan=free":
			free = s
		case "plan=premium":
			premium = s
		}
	}
	assert.Greater(t, *free.ObservedRate, *premium.ObservedRate)
	_, err = json.Marshal(rep)
	require.NoError(t, err)
}

func TestOneClassLabelsAreUnfitted(t *testing.T) {
	ls := Synthesize(5, 300, asOf)
	for i := range ls {
		ls[i].ChurnedAt = nil
	}
	rep, err := Analyze(ls, Options{AsOf: asOf})
	require.NoError(t, err)
	assert.False(t, rep.Fitted)
	assert.Contains(t, rep.UnfittedReason, "0 churned")
}

func TestAnalyzeErrors(t *testing.T) {
	day := date(1, 1)
	for _, tc := range []struct {
		name string
		ls   []Listener
		opt  Options
		want string
	}{
		{"no as-of", []Listener{{ID: "a", FirstSeen: day}}, Options{}, "as-of"},
		{"no listeners", nil, Options{AsOf: asOf}, "no listeners"},
		{"no id", []Listener{{FirstSeen: day}}, Options{AsOf: asOf}, "no id"},
		{"duplicate", []Listener{{ID: "a", FirstSeen: day}, {ID: "a", FirstSeen: day}}, Options{AsOf: asOf}, "twice"},
		{"no first seen", []Listener{{ID: "a"}}, Options{AsOf: asOf}, "first-seen"},
		{"negative minutes", []Listener{{ID: "a", FirstSeen: day, Activity: []Day{{Date: day, Minutes: -1}}}}, Options{AsOf: asOf}, "invalid activity"},
		{"NaN minutes", []Listener{{ID: "a", FirstSeen: day, Activity: []Day{{Date: day, Minutes: math.NaN()}}}}, Options{AsOf: asOf}, "invalid activity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Analyze(tc.ls, tc.opt)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestAnalyzeWithNoCurrentListeners(t *testing.T) {
	// Everyone first seen after asOf: nothing to score, but no error.
	rep, err := Analyze([]Listener{{ID: "a", FirstSeen: asOf.AddDate(0, 0, 3)}}, Options{AsOf: asOf})
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Current)
	assert.Empty(t, rep.Recommendations)
}

func TestSynthesizeIsDeterministic(t *testing.T) {
	a := Synthesize(9, 50, asOf)
	b := Synthesize(9, 200, asOf)
	assert.Equal(t, a, b[:50])
	assert.NotEqual(t, a, Synthesize(10, 50, asOf))
	assert.Nil(t, Synthesize(1, 0, asOf))
	for _, l := range a {
		assert.True(t, l.Labelled)
		for _, d := range l.Activity {
			assert.Less(t, d.Date, asOf)
			if l.ChurnedAt != nil {
				assert.Less(t, d.Date, *l.ChurnedAt)
			}
		}
	}
}
