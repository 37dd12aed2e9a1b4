package churn

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAUC(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scores []float64
		labels []bool
		want   float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		{"reversed", []float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, true}, 0.5},
		// pairs (pos, neg): (0.35,0.1) win, (0.35,0.4) loss, (0.8,·) two wins: 3/4.
		{"hand example", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
		// (0.5,0.5) tie counts 1/2, (0.5,0.2) win, (0.9,·) two wins: 3.5/4.
		{"tie counts half", []float64{0.5, 0.5, 0.2, 0.9}, []bool{true, false, false, true}, 0.875},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AUC(tc.scores, tc.labels)
			require.NoError(t, err)
			assert.InDelta(t, tc.want, got, 1e-12)
		})
	}
	_, err := AUC([]float64{1, 2}, []bool{true, true})
	assert.ErrorIs(t, err, ErrOneClass)
	_, err = AUC([]float64{1}, []bool{true, false})
	assert.Error(t, err)
	_, err = AUC(nil, nil)
	assert.ErrorIs(t, err, ErrOneClass)
	_, err = AUC([]float64{math.NaN(), 1}, []bool{true, false})
	assert.Error(t, err)
}

// logisticData draws n rows of two N(0,1) features and labels from
// P(y) = σ(b + w·x), a known logistic model.
func logisticData(seed uint64, n int, b float64, w [2]float64) ([][]float64, []bool) {
	r := rand.New(rand.NewPCG(seed, 2))
	x := make([][]float64, n)
	y := make([]bool, n)
	for i := range x {
		x[i] = []float64{r.NormFloat64(), r.NormFloat64()}
		y[i] = r.Float64() < sigmoid(b+w[0]*x[i][0]+w[1]*x[i][1])
	}
	return x, y
}

func TestFitRecoversKnownCoefficients(t *testing.T) {
	x, y := logisticData(1, 20000, 0.5, [2]float64{1, -2})
	m, err := Fit(x, y, 1e-6)
	require.NoError(t, err)
	assert.True(t, m.Fitted)
	// Features are already ~N(0,1), so standardised weights ≈ true ones.
	assert.InDelta(t, 0.5, m.Intercept, 0.08)
	assert.InDelta(t, 1.0, m.Weights[0], 0.08)
	assert.InDelta(t, -2.0, m.Weights[1], 0.1)
}

func TestFitRidgeShrinksAndKeepsSeparableDataFinite(t *testing.T) {
	// Perfectly separable: without a penalty the weight would run off.
	x := [][]float64{{-2}, {-1}, {1}, {2}}
	y := []bool{false, false, true, true}
	m, err := Fit(x, y, 0.1)
	require.NoError(t, err)
	assert.False(t, math.IsInf(m.Weights[0], 0))
	assert.Greater(t, m.Weights[0], 0.0)
	strong, err := Fit(x, y, 10)
	require.NoError(t, err)
	assert.Less(t, strong.Weights[0], m.Weights[0])
}

func TestFitErrors(t *testing.T) {
	_, err := Fit(nil, nil, 0.1)
	assert.Error(t, err)
	_, err = Fit([][]float64{{1}, {2}}, []bool{true, true}, 0.1)
	assert.ErrorIs(t, err, ErrOneClass)
	_, err = Fit([][]float64{{1}, {2, 3}}, []bool{true, false}, 0.1)
	assert.ErrorContains(t, err, "row 1")
	_, err = Fit([][]float64{{1}, {math.Inf(1)}}, []bool{true, false}, 0.1)
	assert.ErrorContains(t, err, "not finite")
	_, err = Fit([][]float64{{1}, {2}}, []bool{true, false}, -1)
	assert.ErrorContains(t, err, "lambda")
	// A constant feature (SD 0) is taken as SD 1, not a division by zero.
	m, err := Fit([][]float64{{1, 3}, {2, 3}, {3, 3}, {4, 3}}, []bool{false, true, false, true}, 0.1)
	require.NoError(t, err)
	assert.Equal(t, 1.0, m.SD[1])
}

func TestCrossValidate(t *testing.T) {
	x, y := logisticData(3, 2000, 0, [2]float64{1.5, -1.5})
	cv, err := CrossValidate(x, y, 5, 0.01, 42)
	require.NoError(t, err)
	assert.Len(t, cv.FoldAUC, 5)
	// The Bayes AUC of this model is about 0.85; held-out folds land near it.
	assert.InDelta(t, 0.85, cv.AUC, 0.04)
	assert.InDelta(t, cv.AUC, cv.MeanFoldAUC, 0.02)
	again, err := CrossValidate(x, y, 5, 0.01, 42)
	require.NoError(t, err)
	assert.Equal(t, cv, again, "same seed, same folds")

	_, err = CrossValidate(x[:3], []bool{true, false, false}, 5, 0.01, 1)
	assert.ErrorContains(t, err, "at least 5 churned")
	_, err = CrossValidate(x, y, 1, 0.01, 1)
	assert.Error(t, err)
}

func TestUnfittedFormula(t *testing.T) {
	m := Unfitted()
	f := Features{RecencyDays: 100, ActiveDays28: 2, ActiveDays90: 10, Minutes28: 60, Trend: -0.25}
	// Recency capped at 60 in the unfitted formula.
	z := -1.0 + 0.08*60 - 0.10*2 - 0.02*10 - 0.25*math.Log1p(60) - 3.0*-0.25
	assert.InDelta(t, 1/(1+math.Exp(-z)), m.Score(f), 1e-12)
	assert.False(t, m.Fitted)
}

func TestFittedModelBeatsChanceOnHeldOutSyntheticListeners(t *testing.T) {
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	trainX, trainY := TrainingSet(Synthesize(1, 3000, asOf), asOf, 30)
	m, err := Fit(trainX, trainY, 0.01)
	require.NoError(t, err)
	// Held out: listeners the model never saw (another seed).
	testX, testY := TrainingSet(Synthesize(2, 3000, asOf), asOf, 30)
	scores := make([]float64, len(testX))
	for i, row := range testX {
		scores[i] = m.score(row)
	}
	auc, err := AUC(scores, testY)
	require.NoError(t, err)
	t.Logf("held-out AUC %.3f on %d listeners (%d churned)", auc, len(testY), count(testY))
	assert.GreaterOrEqual(t, auc, 0.80)
	// The known process: long silence raises churn, frequent listening lowers it.
	assert.Greater(t, m.Weights[0], 0.0, "recency")
	assert.Less(t, m.Weights[1], 0.0, "activeDays28")
}

func TestUnfittedExamplesInItsDoc(t *testing.T) {
	m := Unfitted()
	daily := Features{RecencyDays: 1, ActiveDays28: 20, ActiveDays90: 65, Minutes28: 600}
	assert.InDelta(t, 0.003, m.Score(daily), 0.0005)
	fading := Features{RecencyDays: 40, ActiveDays90: 5, Trend: -0.6}
	assert.InDelta(t, 0.98, m.Score(fading), 0.005)
}
