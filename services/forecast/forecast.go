package forecast

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Options steer Compute. The zero value of each field means its default.
type Options struct {
	// HorizonPeriods is how many periods (days, weeks or months, as the
	// series is spaced) to forecast: 1 to MaxHorizonPeriods.
	HorizonPeriods int
	// Models restricts the candidates (nil: every ETS model but the
	// unstable additive-error/multiplicative-season ones, Theta and
	// seasonal naive). Models with multiplicative components are skipped for
	// series that are not strictly positive.
	Models []Model
	// BacktestOrigins is how many rolling origins the backtest uses
	// (default 10, fewer for short series).
	BacktestOrigins int
	// SimulationPaths is how many sample paths give the intervals of models
	// without analytic variances (default 1000).
	SimulationPaths int
	// Seed seeds the simulation (default 1), so answers are reproducible.
	Seed uint64
}

// MaxHorizonPeriods bounds the horizon so that simulation memory stays small
// (paths × horizon values).
const MaxHorizonPeriods = 1000

// OptionsError says an option is out of range.
type OptionsError struct{ Field, Reason string }

func (e *OptionsError) Error() string { return "forecast: option " + e.Field + ": " + e.Reason }

// NoModelError says no allowed candidate could be fitted for a reason other
// than the length of the series (e.g. only multiplicative models allowed for
// data with zeros).
type NoModelError struct{ Reasons []string }

func (e *NoModelError) Error() string {
	return fmt.Sprintf("forecast: no allowed model can be fitted: %v", e.Reasons)
}

// ForecastPoint is the forecast for one future date.
type ForecastPoint struct {
	Date    time.Time `json:"date"`
	Value   float64   `json:"value"`
	Lower80 float64   `json:"lower80"`
	Upper80 float64   `json:"upper80"`
	Lower95 float64   `json:"lower95"`
	Upper95 float64   `json:"upper95"`
}

// Params are the fitted model's parameters; fields that do not apply to the
// model are nil.
type Params struct {
	Alpha *float64 `json:"alpha,omitempty"`
	Beta  *float64 `json:"beta,omitempty"`
	Gamma *float64 `json:"gamma,omitempty"`
	Phi   *float64 `json:"phi,omitempty"`
	// InitialLevel, InitialTrend and InitialSeason are the initial states
	// ℓ0, b0 and s_{1-m}…s_0 (InitialSeason[i] applies to the i-th point).
	InitialLevel  *float64  `json:"initialLevel,omitempty"`
	InitialTrend  *float64  `json:"initialTrend,omitempty"`
	InitialSeason []float64 `json:"initialSeason,omitempty"`
	// DriftPerPeriod is the Theta method's drift (half the regression slope)
	// on the seasonally adjusted scale.
	DriftPerPeriod *float64 `json:"driftPerPeriod,omitempty"`
	// SeasonalIndices are the Theta method's classical decomposition indices.
	SeasonalIndices []float64 `json:"seasonalIndices,omitempty"`
	// Sigma is the innovation standard deviation: in the data's units for
	// additive errors, relative (a fraction of the level) for
	// multiplicative ones.
	Sigma float64 `json:"sigma"`
}

// Backtest is a rolling-origin evaluation: parameters are fitted on the
// points before the first origin, then each of Origins consecutive origins
// forecasts HorizonPeriods steps, the states (not the parameters) being
// updated with each new point.
type Backtest struct {
	Origins        int     `json:"origins"`
	HorizonPeriods int     `json:"horizonPeriods"`
	TrainingPoints int     `json:"trainingPoints"`
	MAE            float64 `json:"mae"`
	// MAPE is in percent over the non-zero actual values; nil if all are zero.
	MAPE *float64 `json:"mape,omitempty"`
	// MASE is MAE over the in-sample (training) seasonal naive MAE; nil when
	// that is zero (e.g. a constant series).
	MASE *float64 `json:"mase,omitempty"`
}

// Candidate is one model considered.
type Candidate struct {
	Model string `json:"model"`
	// AICc is set for ETS models only: the Theta and naive methods have no
	// likelihood on the same data to compare with.
	AICc     *float64  `json:"aicc,omitempty"`
	Backtest *Backtest `json:"backtest,omitempty"`
	// Skipped says why the model was not fitted.
	Skipped string `json:"skipped,omitempty"`
}

// Scenario is one path derived from the forecast and its intervals.
type Scenario struct {
	Name    string    `json:"name"`
	Meaning string    `json:"meaning"`
	Values  []float64 `json:"values"`
}

// Result is a forecast with how it was made.
type Result struct {
	Frequency      string      `json:"frequency"`
	SeasonalPeriod int         `json:"seasonalPeriod"`
	Seasonality    Seasonality `json:"seasonality"`
	Model          string      `json:"model"`
	Params         Params      `json:"params"`
	AICc           *float64    `json:"aicc,omitempty"`
	// Selection says how Model was chosen.
	Selection string `json:"selection"`
	// IntervalMethod says how the prediction intervals were computed.
	IntervalMethod string          `json:"intervalMethod"`
	Points         []ForecastPoint `json:"points"`
	Scenarios      []Scenario      `json:"scenarios"`
	Backtest       *Backtest       `json:"backtest,omitempty"`
	Candidates     []Candidate     `json:"candidates"`
}

// FitDampedTrend forecasts with the damped-trend model ETS(A,Ad,N) alone.
func FitDampedTrend(points []Point, horizonPeriods int) (*Result, error) {
	return Compute(points, Options{HorizonPeriods: horizonPeriods, Models: []Model{DampedTrend}})
}

// etsMaxEvals bounds Nelder–Mead's likelihood evaluations per ETS model;
// see the benchmark for what it costs.
func etsMaxEvals(dim int) int { return 150 + 60*dim }

// switchMargin is how much lower (as a ratio) a non-ETS backtest MAE must
// be to displace the ETS choice.
const switchMargin = 0.9

// Compute infers the spacing of points, fits the allowed candidates, picks
// one and forecasts opts.HorizonPeriods periods ahead.
//
// Selection: among ETS models the lowest AICc wins (Hyndman et al. 2008,
// §7.1). That model, Theta and seasonal naive are then backtested over a
// rolling origin; Theta or seasonal naive replaces the ETS model only with a
// backtest MAE (equivalently MASE) at least 10% lower. AICc cannot compare
// them, the Theta method being fitted to seasonally adjusted
// data and the naive method having no fitted likelihood. If the ETS winner
// cannot be backtested (series too short) it is kept.
func Compute(points []Point, opts Options) (*Result, error) {
	if opts.HorizonPeriods < 1 || opts.HorizonPeriods > MaxHorizonPeriods {
		return nil, &OptionsError{Field: "HorizonPeriods", Reason: fmt.Sprintf("must be 1 to %d, got %d", MaxHorizonPeriods, opts.HorizonPeriods)}
	}
	if opts.BacktestOrigins < 0 || opts.SimulationPaths < 0 {
		return nil, &OptionsError{Field: "BacktestOrigins/SimulationPaths", Reason: "must not be negative"}
	}
	if opts.BacktestOrigins == 0 {
		opts.BacktestOrigins = 10
	}
	if opts.SimulationPaths == 0 {
		opts.SimulationPaths = 1000
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	models := opts.Models
	if models == nil {
		models = allModels()
	}
	for _, m := range models {
		if !m.valid() {
			return nil, &UnknownModelError{Name: fmt.Sprintf("%+v", m)}
		}
	}

	s, err := newSeries(points)
	if err != nil {
		return nil, err
	}
	// Fitting works on y / max|y| so that sums of squares neither overflow
	// (values near 1e300) nor underflow; every output in the data's units
	// is scaled back below.
	scale := 0.0
	for _, v := range s.values {
		scale = max(scale, math.Abs(v))
	}
	if scale == 0 {
		scale = 1
	}
	y := make([]float64, len(s.values))
	for i, v := range s.values {
		y[i] = v / scale
	}
	n := len(y)
	m := s.freq.SeasonalPeriod()
	positive := true
	for _, v := range y {
		positive = positive && v > 0
	}
	seas := detectSeasonality(y, m)

	res := &Result{Frequency: s.freq.String(), SeasonalPeriod: m, Seasonality: seas}
	var (
		bestETS       *etsModel
		bestETSIdx    = -1
		theta         *thetaModel
		thetaIdx      = -1
		snaive        *snaiveModel
		snaiveIdx     = -1
		minNeed       = math.MaxInt
		otherReasons  []string
		anyLengthOnly bool
	)
	for _, mod := range models {
		c := Candidate{Model: mod.String()}
		var need int
		switch mod.Method {
		case MethodETS:
			need = etsMinPoints(mod, m)
		case MethodTheta:
			need = thetaMinPoints(seas.Detected, m)
		default:
			need = snaiveMinPoints(m)
		}
		switch {
		case mod.multiplicative() && !positive:
			c.Skipped = "needs strictly positive data"
			otherReasons = append(otherReasons, c.Model+": "+c.Skipped)
		case n < need:
			c.Skipped = fmt.Sprintf("needs at least %d points", need)
			minNeed = min(minNeed, need)
			anyLengthOnly = true
		default:
			switch mod.Method {
			case MethodETS:
				f := newETSFitter(mod, y, m)
				fit, ok := f.fit(nil, etsMaxEvals(f.dim()))
				if !ok {
					c.Skipped = "no admissible fit"
					otherReasons = append(otherReasons, c.Model+": "+c.Skipped)
					break
				}
				a := fit.aicc
				c.AICc = &a
				if bestETS == nil || fit.aicc < bestETS.aicc {
					bestETS, bestETSIdx = fit, len(res.Candidates)
				}
			case MethodTheta:
				th, ok := fitTheta(y, m, seas.Detected, positive, nil)
				if !ok {
					c.Skipped = "no admissible fit"
					otherReasons = append(otherReasons, c.Model+": "+c.Skipped)
					break
				}
				theta, thetaIdx = th, len(res.Candidates)
			default:
				sn, _ := fitSNaive(y, m)
				snaive, snaiveIdx = sn, len(res.Candidates)
			}
		}
		res.Candidates = append(res.Candidates, c)
	}
	if bestETS == nil && theta == nil && snaive == nil {
		if anyLengthOnly {
			return nil, &InsufficientDataError{Have: n, Need: minNeed, Reason: "for the least demanding allowed model"}
		}
		return nil, &NoModelError{Reasons: otherReasons}
	}

	// Backtest the finalists on a common split so that their errors compare.
	hb := min(opts.HorizonPeriods, max(1, n/5))
	k := min(opts.BacktestOrigins, max(1, n/10))
	n0 := n - hb - k + 1
	bt := backtester{y: y, m: m, n0: n0, k: k, h: hb}
	if bestETS != nil {
		res.Candidates[bestETSIdx].Backtest = bt.ets(bestETS)
	}
	if theta != nil {
		res.Candidates[thetaIdx].Backtest = bt.theta(seas.Detected, positive, theta)
	}
	if snaive != nil {
		res.Candidates[snaiveIdx].Backtest = bt.snaive()
	}

	chosen := -1
	switch {
	case bestETS != nil && res.Candidates[bestETSIdx].Backtest == nil:
		chosen = bestETSIdx
		res.Selection = "lowest AICc among ETS models; the series is too short to backtest against Theta and seasonal naive"
	default:
		// The backtest covers few distinct points (k+h-1), so its MAE is
		// noisy: an alternative displaces the likelihood-based ETS choice only
		// when it is clearly better.
		threshold := math.Inf(1)
		if bestETSIdx >= 0 {
			chosen = bestETSIdx
			threshold = switchMargin * res.Candidates[bestETSIdx].Backtest.MAE
		}
		for _, i := range []int{thetaIdx, snaiveIdx} {
			if i < 0 || res.Candidates[i].Backtest == nil {
				continue
			}
			mae := res.Candidates[i].Backtest.MAE
			if mae < threshold && (chosen == bestETSIdx || chosen < 0 || mae < res.Candidates[chosen].Backtest.MAE) {
				chosen = i
			}
		}
		res.Selection = "lowest-AICc ETS model unless Theta or seasonal naive has a rolling-origin backtest MAE at least 10% lower (then the lower of those)"
		if chosen < 0 {
			for _, i := range []int{bestETSIdx, thetaIdx, snaiveIdx} {
				if i >= 0 {
					chosen = i
					break
				}
			}
			res.Selection = "first fitted of ETS, Theta, seasonal naive; the series is too short to backtest"
		}
	}
	if len(models) == 1 {
		res.Selection = "the only model allowed"
	}
	// -2 log L of the original data differs by the Jacobian of the scaling,
	// 2n log(scale), the same for every model.
	for i := range res.Candidates {
		c := &res.Candidates[i]
		if c.AICc != nil {
			*c.AICc += 2 * float64(n) * math.Log(scale)
		}
		if c.Backtest != nil {
			c.Backtest.MAE *= scale
		}
	}
	res.Model = res.Candidates[chosen].Model
	res.AICc = res.Candidates[chosen].AICc
	res.Backtest = res.Candidates[chosen].Backtest

	H := opts.HorizonPeriods
	var point, lo80, hi80, lo95, hi95 []float64
	switch chosen {
	case bestETSIdx:
		point, lo80, hi80, lo95, hi95, res.IntervalMethod = etsForecast(bestETS, H, opts)
		res.Params = etsParamsOut(bestETS, scale)
	case thetaIdx:
		point, lo80, hi80, lo95, hi95 = theta.forecast(H)
		res.IntervalMethod = "analytic: SES (ETS(A,N,N)) variance on the adjusted scale, reseasonalised"
		res.Params = thetaParamsOut(theta, scale)
	default:
		point, lo80, hi80, lo95, hi95 = snaive.forecast(H)
		res.IntervalMethod = "analytic: seasonal naive variance σ²(⌊(h−1)/m⌋+1)"
		res.Params = Params{Sigma: math.Sqrt(snaive.sigma2) * scale}
	}
	for _, a := range [][]float64{point, lo80, hi80, lo95, hi95} {
		for h := range a {
			a[h] *= scale
			if math.IsNaN(a[h]) || math.IsInf(a[h], 0) {
				return nil, &NoModelError{Reasons: []string{res.Model + ": forecast overflows float64"}}
			}
		}
	}
	last := s.dates[n-1]
	res.Points = make([]ForecastPoint, H)
	for h := range H {
		res.Points[h] = ForecastPoint{
			Date:  s.dateAfter(last, h+1).time(),
			Value: point[h], Lower80: lo80[h], Upper80: hi80[h], Lower95: lo95[h], Upper95: hi95[h],
		}
	}
	res.Scenarios = []Scenario{
		{Name: "pessimistic", Meaning: "lower bound of the 80% prediction interval: a 1-in-10 chance of coming in below it at each date", Values: lo80},
		{Name: "expected", Meaning: "point forecast", Values: point},
		{Name: "optimistic", Meaning: "upper bound of the 80% prediction interval: a 1-in-10 chance of coming in above it at each date", Values: hi80},
	}
	return res, nil
}

func etsForecast(mod *etsModel, H int, opts Options) (point, lo80, hi80, lo95, hi95 []float64, method string) {
	point = make([]float64, H)
	st := etsState{}
	st.copyFrom(&mod.final)
	etsPointForecast(mod.spec, &mod.p, &st, point)
	lo80, hi80 = make([]float64, H), make([]float64, H)
	lo95, hi95 = make([]float64, H), make([]float64, H)
	if mod.analytic() {
		v := make([]float64, H)
		mod.analyticVariance(v)
		for h := range v {
			sd := math.Sqrt(v[h])
			lo80[h], hi80[h] = point[h]-z80*sd, point[h]+z80*sd
			lo95[h], hi95[h] = point[h]-z95*sd, point[h]+z95*sd
		}
		return point, lo80, hi80, lo95, hi95, "analytic: Hyndman et al. (2008) class 1 forecast variance, normal quantiles"
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	paths := mod.simulate(H, opts.SimulationPaths, rng)
	for h, p := range paths {
		slices.Sort(p)
		lo95[h], lo80[h] = quantile(p, 0.025), quantile(p, 0.10)
		hi80[h], hi95[h] = quantile(p, 0.90), quantile(p, 0.975)
	}
	return point, lo80, hi80, lo95, hi95, fmt.Sprintf("simulated: %d sample paths, seed %d, empirical quantiles", opts.SimulationPaths, opts.Seed)
}

// quantile interpolates linearly between order statistics of sorted x
// (Hyndman & Fan 1996, type 7).
func quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(x)-1)
	i := int(pos)
	if i >= len(x)-1 {
		return x[len(x)-1]
	}
	f := pos - float64(i)
	return x[i]*(1-f) + x[i+1]*f
}

func ptr(v float64) *float64 { return &v }

// etsParamsOut reports parameters, scaling states in the data's units back
// by scale (multiplicative seasonal states and relative sigma are ratios).
func etsParamsOut(mod *etsModel, scale float64) Params {
	p := Params{Alpha: ptr(mod.p.alpha), InitialLevel: ptr(mod.p.level0 * scale), Sigma: math.Sqrt(mod.sigma2)}
	if mod.spec.Error == ErrorAdditive {
		p.Sigma *= scale
	}
	if mod.spec.Trend != TrendNone {
		p.Beta, p.InitialTrend = ptr(mod.p.beta), ptr(mod.p.trend0*scale)
	}
	if mod.spec.Trend == TrendDamped {
		p.Phi = ptr(mod.p.phi)
	}
	if mod.spec.Season != SeasonNone {
		p.Gamma = ptr(mod.p.gamma)
		p.InitialSeason = slices.Clone(mod.p.season0)
		if mod.spec.Season == SeasonAdditive {
			for i := range p.InitialSeason {
				p.InitialSeason[i] *= scale
			}
		}
	}
	return p
}

func thetaParamsOut(th *thetaModel, scale float64) Params {
	p := Params{
		Alpha:           ptr(th.ses.p.alpha),
		InitialLevel:    ptr(th.ses.p.level0 * scale),
		DriftPerPeriod:  ptr(th.drift * scale),
		SeasonalIndices: slices.Clone(th.index),
		Sigma:           math.Sqrt(th.ses.sigma2) * scale,
	}
	if !th.mult {
		for i := range p.SeasonalIndices {
			p.SeasonalIndices[i] *= scale
		}
	}
	return p
}
