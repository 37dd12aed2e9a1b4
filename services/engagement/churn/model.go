package churn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/optimize"
)

// Model turns features into a churn probability:
//
//	p = σ(Intercept + Σ_j Weights[j] · (x_j - Mean[j]) / SD[j]),   σ(z) = 1/(1+e^-z)
//
// with x in FeatureNames order (minutes as log(1 + Minutes28)).
type Model struct {
	// Fitted is false for the fixed-weight model of Unfitted.
	Fitted    bool      `json:"fitted"`
	Intercept float64   `json:"intercept"`
	Weights   []float64 `json:"weights"`
	Mean      []float64 `json:"mean"`
	SD        []float64 `json:"sd"`
}

// Unfitted is the risk score used when there are no labels to learn from.
// It is a logistic of a weighted sum of the raw features with fixed weights
// chosen by judgement, not estimated:
//
//	z = -1.0 + 0.08·min(RecencyDays, 60) - 0.10·ActiveDays28 - 0.02·ActiveDays90
//	         - 0.25·log(1 + Minutes28) - 3.0·Trend
//	p = 1 / (1 + e^-z)
//
// So a daily listener (recency 1, 20 of 28 days, 65 of 90, 600 minutes,
// flat) scores about 0.3%, and one silent for 40 days and fading (trend
// -0.6) about 98%. Read it as a ranking, not a calibrated probability.
// Recency is capped at 60 days here because beyond two months of silence
// more silence says little more. Mean is 0 and SD is 1 so that the Model
// formula applies unchanged, with min(recency, 60) applied by Score.
func Unfitted() Model {
	return Model{
		Fitted:    false,
		Intercept: -1.0,
		Weights:   []float64{0.08, -0.10, -0.02, -0.25, -3.0},
		Mean:      []float64{0, 0, 0, 0, 0},
		SD:        []float64{1, 1, 1, 1, 1},
	}
}

const unfittedRecencyCap = 60

// Score returns the churn probability for features f.
func (m Model) Score(f Features) float64 {
	if !m.Fitted {
		f.RecencyDays = math.Min(f.RecencyDays, unfittedRecencyCap)
	}
	return m.score(f.vector())
}

func (m Model) score(x []float64) float64 {
	z := m.Intercept
	for j, w := range m.Weights {
		z += w * (x[j] - m.Mean[j]) / m.SD[j]
	}
	return sigmoid(z)
}

// Factor is one model coefficient, named.
type Factor struct {
	Name string `json:"name"`
	// Weight is the change in log-odds of churn per standard deviation of
	// the feature when fitted, or per unit of the raw feature when not.
	Weight float64 `json:"weight"`
	// OddsRatio is e^Weight.
	OddsRatio float64 `json:"oddsRatio"`
}

// Factors lists the weights by name, largest magnitude first.
func (m Model) Factors() []Factor {
	out := make([]Factor, len(m.Weights))
	for j, w := range m.Weights {
		out[j] = Factor{Name: FeatureNames[j], Weight: w, OddsRatio: math.Exp(w)}
	}
	sort.SliceStable(out, func(i, j int) bool { return math.Abs(out[i].Weight) > math.Abs(out[j].Weight) })
	return out
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// ErrOneClass is returned when labels are all one class.
var ErrOneClass = errors.New("churn: labels must include both churned and retained listeners")

// Fit fits an L2-regularised logistic regression on rows x (one row of
// FeatureNames-ordered raw features per listener) and labels y (true =
// churned). Features are standardised with the training mean and sample SD
// (an SD of 0 is taken as 1). The objective, minimised with gonum's L-BFGS
// using the analytic gradient, is the mean negative log-likelihood plus a
// ridge penalty on the weights (not the intercept):
//
//	f(b, w) = (1/n) Σ_i [log(1 + e^{z_i}) - y_i z_i] + (λ/2) ‖w‖²,   z_i = b + w·s_i
//	∂f/∂b   = (1/n) Σ_i (σ(z_i) - y_i)
//	∂f/∂w_j = (1/n) Σ_i (σ(z_i) - y_i) s_ij + λ w_j
//
// (the standard logistic likelihood; see e.g. Hastie, Tibshirani &
// Friedman, The Elements of Statistical Learning, 2nd ed., §4.4 and §18.4).
func Fit(x [][]float64, y []bool, lambda float64) (m Model, err error) {
	n := len(x)
	if n == 0 || n != len(y) {
		return Model{}, fmt.Errorf("churn: fit needs as many label as feature rows (got %d and %d, need > 0)", n, len(y))
	}
	d := len(x[0])
	pos := 0
	for i, row := range x {
		if len(row) != d {
			return Model{}, fmt.Errorf("churn: feature row %d has %d values, want %d", i, len(row), d)
		}
		for _, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Model{}, fmt.Errorf("churn: feature row %d is not finite", i)
			}
		}
		if y[i] {
			pos++
		}
	}
	if pos == 0 || pos == n {
		return Model{}, ErrOneClass
	}
	if lambda < 0 || math.IsNaN(lambda) {
		return Model{}, fmt.Errorf("churn: lambda must be >= 0, got %v", lambda)
	}

	mean, sd := make([]float64, d), make([]float64, d)
	for _, row := range x {
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for _, row := range x {
		for j, v := range row {
			sd[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range sd {
		if n > 1 {
			sd[j] = math.Sqrt(sd[j] / float64(n-1))
		}
		if sd[j] == 0 || math.IsNaN(sd[j]) {
			sd[j] = 1
		}
	}
	// Standardised rows, flat and row-major for cache-friendly passes.
	s := make([]float64, n*d)
	ys := make([]float64, n)
	for i, row := range x {
		for j, v := range row {
			s[i*d+j] = (v - mean[j]) / sd[j]
		}
		if y[i] {
			ys[i] = 1
		}
	}
	inv := 1 / float64(n)
	// L-BFGS asks for the value and the gradient at the same points, so one
	// pass computes both (one exp per row) and is reused while x is unchanged.
	var lastX []float64
	var lastF float64
	lastG := make([]float64, d+1)
	eval := func(theta []float64) {
		if lastX != nil && slices.Equal(lastX, theta) {
			return
		}
		lastX = append(lastX[:0], theta...)
		clear(lastG)
		f := 0.0
		for i := range n {
			row := s[i*d : i*d+d]
			z := theta[0]
			for j, v := range row {
				z += theta[j+1] * v
			}
			e := math.Exp(-math.Abs(z))
			p := 1 / (1 + e) // σ(|z|)
			if z < 0 {
				p = e / (1 + e)
			}
			f += math.Max(z, 0) + math.Log1p(e) - ys[i]*z // softplus(z) - y z
			r := p - ys[i]
			lastG[0] += r
			for j, v := range row {
				lastG[j+1] += r * v
			}
		}
		pen := 0.0
		for j, w := range theta[1:] {
			pen += w * w
			lastG[j+1] = lastG[j+1]*inv + lambda*w
		}
		lastG[0] *= inv
		lastF = f*inv + lambda/2*pen
	}
	problem := optimize.Problem{
		Func: func(theta []float64) float64 { eval(theta); return lastF },
		Grad: func(grad, theta []float64) { eval(theta); copy(grad, lastG) },
	}
	defer func() {
		// Minimize panics only on a Problem/Method mismatch, which would be
		// a bug here; report it rather than crash a caller's request.
		if r := recover(); r != nil {
			m, err = Model{}, fmt.Errorf("churn: optimiser failed: %v", r)
		}
	}()
	res, err := optimize.Minimize(problem, make([]float64, d+1),
		&optimize.Settings{GradientThreshold: 1e-7, MajorIterations: 1000}, &optimize.LBFGS{})
	if res == nil {
		return Model{}, fmt.Errorf("churn: optimiser failed: %w", err)
	}
	// A line search that can make no more progress ends with an error but
	// a usable optimum; accept any finite result.
	for _, v := range res.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Model{}, fmt.Errorf("churn: optimiser diverged: %v", err)
		}
	}
	return Model{Fitted: true, Intercept: res.X[0], Weights: append([]float64(nil), res.X[1:]...), Mean: mean, SD: sd}, nil
}

// AUC is the area under the ROC curve of scores against labels (true =
// positive), computed by the rank form of the Mann–Whitney U statistic
// (Hanley & McNeil, "The meaning and use of the area under a receiver
// operating characteristic (ROC) curve", Radiology 1982):
//
//	AUC = (R₊ - n₊(n₊+1)/2) / (n₊ · n₋)
//
// where R₊ is the sum of the ranks of the positives among all scores, tied
// scores sharing their average rank (so a tie counts one half).
func AUC(scores []float64, labels []bool) (float64, error) {
	if len(scores) != len(labels) {
		return 0, fmt.Errorf("churn: AUC needs as many labels as scores (got %d and %d)", len(labels), len(scores))
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
		if math.IsNaN(scores[i]) {
			return 0, fmt.Errorf("churn: AUC score %d is NaN", i)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankPos float64
	var nPos int
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+1+j) / 2 // ranks i+1..j, averaged
		for k := i; k < j; k++ {
			if labels[idx[k]] {
				rankPos += avg
				nPos++
			}
		}
		i = j
	}
	nNeg := len(scores) - nPos
	if nPos == 0 || nNeg == 0 {
		return 0, ErrOneClass
	}
	return (rankPos - float64(nPos)*float64(nPos+1)/2) / (float64(nPos) * float64(nNeg)), nil
}

// CrossValidation is the result of k-fold cross-validation.
type CrossValidation struct {
	Folds int `json:"folds"`
	// AUC is over the pooled out-of-fold predictions of all listeners.
	AUC float64 `json:"auc"`
	// FoldAUC is each fold's AUC on its held-out listeners.
	FoldAUC     []float64 `json:"foldAuc"`
	MeanFoldAUC float64   `json:"meanFoldAuc"`
}

// CrossValidate estimates the out-of-sample AUC of Fit by stratified k-fold
// cross-validation: churned and retained rows are each shuffled (PCG seeded
// with seed) and dealt round-robin to k folds, so every fold holds both
// classes in about the overall proportion. Each fold is scored by a model
// fitted, standardisation included, on the other k-1 folds only.
func CrossValidate(x [][]float64, y []bool, k int, lambda float64, seed uint64) (CrossValidation, error) {
	if len(x) != len(y) {
		return CrossValidation{}, fmt.Errorf("churn: cross-validation needs as many labels as rows (got %d and %d)", len(y), len(x))
	}
	var pos, neg []int
	for i, v := range y {
		if v {
			pos = append(pos, i)
		} else {
			neg = append(neg, i)
		}
	}
	if k < 2 {
		return CrossValidation{}, fmt.Errorf("churn: cross-validation needs at least 2 folds, got %d", k)
	}
	if len(pos) < k || len(neg) < k {
		return CrossValidation{}, fmt.Errorf("churn: %d folds need at least %d churned and %d retained listeners (have %d and %d)",
			k, k, k, len(pos), len(neg))
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	fold := make([]int, len(y))
	for _, group := range [][]int{pos, neg} {
		r.Shuffle(len(group), func(i, j int) { group[i], group[j] = group[j], group[i] })
		for n, i := range group {
			fold[i] = n % k
		}
	}
	oof := make([]float64, len(y))
	cv := CrossValidation{Folds: k, FoldAUC: make([]float64, k)}
	for f := range k {
		size := len(y)/k + 1
		trX, teX := make([][]float64, 0, len(y)-size+2), make([][]float64, 0, size)
		trY, teY := make([]bool, 0, len(y)-size+2), make([]bool, 0, size)
		teIdx := make([]int, 0, size)
		for i := range y {
			if fold[i] == f {
				teX, teY, teIdx = append(teX, x[i]), append(teY, y[i]), append(teIdx, i)
			} else {
				trX, trY = append(trX, x[i]), append(trY, y[i])
			}
		}
		m, err := Fit(trX, trY, lambda)
		if err != nil {
			return CrossValidation{}, fmt.Errorf("churn: fold %d: %w", f+1, err)
		}
		scores := make([]float64, len(teX))
		for i, row := range teX {
			scores[i] = m.score(row)
			oof[teIdx[i]] = scores[i]
		}
		if cv.FoldAUC[f], err = AUC(scores, teY); err != nil {
			return CrossValidation{}, fmt.Errorf("churn: fold %d: %w", f+1, err)
		}
		cv.MeanFoldAUC += cv.FoldAUC[f] / float64(k)
	}
	var err error
	cv.AUC, err = AUC(oof, y)
	return cv, err
}
