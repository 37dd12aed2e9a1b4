package forecast

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/optimize"
)

// etsParams holds the smoothing parameters and initial states of an ETS
// model. season0[i] is the seasonal state applied to observation i (i < m).
type etsParams struct {
	alpha, beta, gamma, phi float64
	level0, trend0          float64
	season0                 []float64
}

// etsState is the state vector after some observations; season[next] is the
// seasonal state that applies to the next observation.
type etsState struct {
	level, trend float64
	season       []float64
	next         int
}

func (s *etsState) copyFrom(o *etsState) {
	s.level, s.trend, s.next = o.level, o.trend, o.next
	s.season = append(s.season[:0], o.season...)
}

// runStats accumulates what the likelihood needs from one pass.
type runStats struct {
	sseAbs, sseRel, sumLogMu float64
	ok                       bool
}

// etsRun applies the ETS recursions to y, updating st in place.
//
// Hyndman et al. (2008), Table 2.3, error-correction form. Writing
// e = y - ŷ for the absolute one-step error, the updates of a
// multiplicative-error model (where ŷ·ε = e) are the same as those of its
// additive-error twin:
//
//	base  = ℓ + φb
//	ŷ     = base (N), base + s (A), base·s (M)
//	ℓ'    = base + αe       (N, A)      base + αe/s   (M)
//	b'    = φb + βe         (N, A)      φb + βe/s     (M)
//	s'    = s + γe          (A)         s + γe/base   (M)
//
// so one loop serves both; only the likelihood differs. The loop does not
// allocate: it is the cost of every optimiser step.
func etsRun(spec Model, p *etsParams, y []float64, st *etsState) runStats {
	var r runStats
	l, b, j := st.level, st.trend, st.next
	s := st.season
	m := len(s)
	alpha, beta, gamma, phi := p.alpha, p.beta, p.gamma, p.phi
	multErr := spec.Error == ErrorMultiplicative
	// Products of ŷ are logged only when they leave a safe range, so that the
	// multiplicative likelihood costs a compare per step, not a log.
	prod := 1.0
	for _, yt := range y {
		base := l + phi*b
		var mu float64
		switch spec.Season {
		case SeasonAdditive:
			mu = base + s[j]
		case SeasonMultiplicative:
			if base <= 0 || s[j] <= 0 {
				return r
			}
			mu = base * s[j]
		default:
			mu = base
		}
		e := yt - mu
		r.sseAbs += e * e
		// q = e/ŷ is the one division per step: e/s = q·base and
		// e/base = q·s below.
		var q float64
		if multErr || spec.Season == SeasonMultiplicative {
			q = e / mu
		}
		if multErr {
			if mu <= 0 {
				return r
			}
			r.sseRel += q * q
			prod *= mu
			if prod > 1e150 || prod < 1e-150 {
				r.sumLogMu += math.Log(prod)
				prod = 1
			}
		}
		switch spec.Season {
		case SeasonAdditive:
			l = base + alpha*e
			b = phi*b + beta*e
			s[j] += gamma * e
		case SeasonMultiplicative:
			sj := s[j]
			l = base + alpha*q*base
			b = phi*b + beta*q*base
			s[j] = sj + gamma*q*sj
		default:
			l = base + alpha*e
			b = phi*b + beta*e
		}
		if m > 0 {
			j++
			if j == m {
				j = 0
			}
		}
	}
	r.sumLogMu += math.Log(prod)
	st.level, st.trend, st.next = l, b, j
	r.ok = !math.IsNaN(r.sseAbs) && !math.IsInf(r.sseAbs, 0) && !math.IsInf(l, 0) && !math.IsNaN(l)
	return r
}

// etsNumParams counts the estimated parameters for the information
// criteria: smoothing parameters, initial states (m-1 free seasonal ones,
// whether optimised or set by the heuristic, since both come from the data)
// and the innovation variance.
func etsNumParams(spec Model, m int) int {
	k := 2 // α, ℓ0
	if spec.Trend != TrendNone {
		k += 2 // β, b0
	}
	if spec.Trend == TrendDamped {
		k++
	}
	if spec.Season != SeasonNone {
		k += 1 + m - 1 // γ, seasonal states
	}
	return k + 1 // σ²
}

// etsMinPoints is the shortest series an ETS model is fitted to: enough for
// AICc to be finite with a few degrees of freedom left (R's forecast::ets
// uses the same margin), and two full cycles for the seasonal heuristic.
func etsMinPoints(spec Model, m int) int {
	need := etsNumParams(spec, m) + 4
	if spec.Season != SeasonNone {
		need = max(need, 2*m)
	}
	return need
}

// neg2LogLik is -2 log L at the maximum-likelihood variance.
//
// Hyndman et al. (2008), §5.2, eq. (5.3) concentrated over σ²:
// -2 log L = n log(2π σ̂²) + n + 2 Σ log|r(x_{t-1})|, where r = 1 and
// σ̂² = Σe²/n for additive errors, r = ŷ and σ̂² = Σ(e/ŷ)²/n for
// multiplicative (relative) errors. The variance is floored so that a
// perfect fit (a constant series) stays finite.
func neg2LogLik(spec Model, r runStats, n int, scale float64) float64 {
	nf := float64(n)
	var s2 float64
	if spec.Error == ErrorMultiplicative {
		s2 = max(r.sseRel/nf, 1e-20)
		return nf*math.Log(2*math.Pi*s2) + nf + 2*r.sumLogMu
	}
	s2 = max(r.sseAbs/nf, 1e-20*scale*scale)
	return nf*math.Log(2*math.Pi*s2) + nf
}

// aicc is Akaike's criterion corrected for small samples (Hyndman et al.
// 2008, §7.1): AIC + 2k(k+1)/(n-k-1), AIC = -2 log L + 2k.
func aicc(neg2LL float64, k, n int) float64 {
	if n-k-1 <= 0 {
		return math.Inf(1)
	}
	return neg2LL + 2*float64(k) + 2*float64(k*(k+1))/float64(n-k-1)
}

func logistic(u float64) float64 { return 1 / (1 + math.Exp(-u)) }

func logit(p float64) float64 {
	p = min(max(p, 1e-6), 1-1e-6)
	return math.Log(p / (1 - p))
}

// Parameter bounds: the "usual" region of Hyndman et al. (2008), §5.2:
// 0<α<1, 0<β<α, 0<γ<1-α, 0.8≤φ≤0.98. Nelder–Mead works unconstrained on
// logits, so every point it tries is admissible.
const (
	phiLow, phiHigh = 0.8, 0.98
	paramEps        = 1e-4
)

// etsModel is a fitted ETS model.
type etsModel struct {
	spec   Model
	m      int
	p      etsParams
	final  etsState // state after the last observation
	n      int
	k      int
	neg2LL float64
	aicc   float64
	sigma2 float64 // innovation variance: absolute (A error) or relative (M error)
}

// etsFitter holds the buffers of one fit so that the objective allocates
// nothing.
type etsFitter struct {
	spec      Model
	y         []float64
	m         int
	init      etsParams
	optSeason bool
	scale     float64 // level step per unit of the optimiser's coordinate
	dataScale float64
	work      etsParams
	st        etsState
}

// maxSeasonalStatesOptimised caps the seasonal initial states given to the
// optimiser: with the weekly period of 52 Nelder–Mead would wander in 57
// dimensions, and for long series the heuristic start matters little.
const (
	maxSeasonalStatesOptimised = 12
	maxPointsSeasonOptimised   = 400
)

func newETSFitter(spec Model, y []float64, m int) *etsFitter {
	f := &etsFitter{spec: spec, y: y, m: m}
	if spec.Season == SeasonNone {
		f.m = 0
	}
	f.init = heuristicInit(spec, y, m)
	f.optSeason = spec.Season != SeasonNone && m <= maxSeasonalStatesOptimised && len(y) <= maxPointsSeasonOptimised
	mean, sd := meanSD(y)
	f.dataScale = math.Abs(mean)
	if f.dataScale == 0 {
		f.dataScale = 1
	}
	f.scale = sd * 0.2
	if f.scale == 0 {
		f.scale = f.dataScale * 0.01
	}
	f.work.season0 = make([]float64, f.m)
	f.st.season = make([]float64, f.m)
	return f
}

func (f *etsFitter) dim() int {
	d := 2
	if f.spec.Trend != TrendNone {
		d += 2
	}
	if f.spec.Trend == TrendDamped {
		d++
	}
	if f.spec.Season != SeasonNone {
		d++
		if f.optSeason {
			d += f.m - 1
		}
	}
	return d
}

func (f *etsFitter) seasonScale() float64 {
	if f.spec.Season == SeasonMultiplicative {
		return 0.02
	}
	return f.scale
}

func (f *etsFitter) decode(u []float64, p *etsParams) {
	i := 0
	p.alpha = min(max(logistic(u[i]), paramEps), 1-paramEps)
	i++
	p.beta, p.gamma, p.phi, p.trend0 = 0, 0, 1, 0
	if f.spec.Trend != TrendNone {
		p.beta = p.alpha * logistic(u[i])
		i++
	}
	if f.spec.Trend == TrendDamped {
		p.phi = phiLow + (phiHigh-phiLow)*logistic(u[i])
		i++
	}
	if f.spec.Season != SeasonNone {
		p.gamma = (1 - p.alpha) * logistic(u[i])
		i++
	}
	p.level0 = f.init.level0 + f.scale*u[i]
	i++
	if f.spec.Trend != TrendNone {
		p.trend0 = f.init.trend0 + 0.1*f.scale*u[i]
		i++
	}
	if f.spec.Season == SeasonNone {
		return
	}
	if !f.optSeason {
		copy(p.season0, f.init.season0)
		return
	}
	// Seasonal states stay normalised (sum 0, or sum m when multiplicative):
	// the last one is implied by the others.
	sum := 0.0
	for k := 0; k < f.m-1; k++ {
		p.season0[k] = f.init.season0[k] + f.seasonScale()*u[i]
		sum += p.season0[k]
		i++
	}
	if f.spec.Season == SeasonMultiplicative {
		p.season0[f.m-1] = float64(f.m) - sum
	} else {
		p.season0[f.m-1] = -sum
	}
}

func (f *etsFitter) encode(p *etsParams) []float64 {
	u := make([]float64, 0, f.dim())
	u = append(u, logit(p.alpha))
	if f.spec.Trend != TrendNone {
		u = append(u, logit(p.beta/p.alpha))
	}
	if f.spec.Trend == TrendDamped {
		u = append(u, logit((p.phi-phiLow)/(phiHigh-phiLow)))
	}
	if f.spec.Season != SeasonNone {
		u = append(u, logit(p.gamma/(1-p.alpha)))
	}
	u = append(u, (p.level0-f.init.level0)/f.scale)
	if f.spec.Trend != TrendNone {
		u = append(u, (p.trend0-f.init.trend0)/(0.1*f.scale))
	}
	if f.optSeason {
		for k := 0; k < f.m-1; k++ {
			u = append(u, (p.season0[k]-f.init.season0[k])/f.seasonScale())
		}
	}
	return u
}

func (f *etsFitter) resetState(p *etsParams) {
	f.st.level, f.st.trend, f.st.next = p.level0, p.trend0, 0
	copy(f.st.season, p.season0)
}

const infeasible = 1e100

func (f *etsFitter) objective(u []float64) float64 {
	f.decode(u, &f.work)
	if f.spec.Season == SeasonMultiplicative {
		for _, s := range f.work.season0 {
			if s <= 0 {
				return infeasible
			}
		}
	}
	f.resetState(&f.work)
	r := etsRun(f.spec, &f.work, f.y, &f.st)
	if !r.ok {
		return infeasible
	}
	v := neg2LogLik(f.spec, r, len(f.y), f.dataScale)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return infeasible
	}
	return v
}

// defaultStart follows R forecast::ets's starting values: a small α, β and
// γ a fraction of their upper bounds, φ near its upper bound.
func (f *etsFitter) defaultStart() []float64 {
	p := f.init
	p.alpha, p.beta, p.gamma, p.phi = 0.2, 0.02, 0.05, 0.97
	p.season0 = f.init.season0
	return f.encode(&p)
}

// convergerFor stops Nelder–Mead after 6·dim iterations without a relative
// improvement of 1e-7 in -2 log L. On the benchmark series this lands within
// 0.001 of the AICc reached with 20000 evaluations; 1e-6 would save a sixth
// of the evaluations for gaps up to 0.15.
func convergerFor(dim int) optimize.Converger {
	return &optimize.FunctionConverge{Absolute: 1e-6, Relative: 1e-7, Iterations: 6 * dim}
}

// fit maximises the likelihood from start (nil: the default start).
func (f *etsFitter) fit(start []float64, maxEvals int) (*etsModel, bool) {
	if start == nil {
		start = f.defaultStart()
	}
	prob := optimize.Problem{Func: f.objective}
	settings := &optimize.Settings{
		FuncEvaluations: maxEvals,
		Converger:       convergerFor(len(start)),
	}
	res, err := optimize.Minimize(prob, start, settings, &optimize.NelderMead{SimplexSize: 0.5})
	var x []float64
	switch {
	case res != nil && res.F < infeasible:
		x = res.X
	case err == nil && res != nil:
		return nil, false
	default:
		if f.objective(start) >= infeasible {
			return nil, false
		}
		x = start
	}
	return f.finish(x)
}

// finish rebuilds the fitted model at optimiser coordinates x.
func (f *etsFitter) finish(x []float64) (*etsModel, bool) {
	mod := &etsModel{spec: f.spec, m: f.m, n: len(f.y)}
	mod.p.season0 = make([]float64, f.m)
	f.decode(x, &mod.p)
	mod.final.season = make([]float64, f.m)
	mod.final.level, mod.final.trend = mod.p.level0, mod.p.trend0
	copy(mod.final.season, mod.p.season0)
	r := etsRun(f.spec, &mod.p, f.y, &mod.final)
	if !r.ok {
		return nil, false
	}
	mod.k = etsNumParams(f.spec, f.m)
	mod.neg2LL = neg2LogLik(f.spec, r, len(f.y), f.dataScale)
	mod.aicc = aicc(mod.neg2LL, mod.k, len(f.y))
	// Hyndman et al. (2008), §6.1: the residual variance divides by the
	// degrees of freedom left after the estimated parameters.
	df := float64(max(len(f.y)-(mod.k-1), 1))
	if f.spec.Error == ErrorMultiplicative {
		mod.sigma2 = r.sseRel / df
	} else {
		mod.sigma2 = r.sseAbs / df
	}
	return mod, true
}

// pointForecast writes the h-step point forecasts from state st.
//
// Hyndman et al. (2008), Table 2.1: ŷ_{t+h|t} = ℓ + φ_h b (+ or ×)
// s_{t+h-m(k+1)}, with φ_h = φ + φ² + … + φ^h (h for the undamped trend).
func etsPointForecast(spec Model, p *etsParams, st *etsState, out []float64) {
	m := len(st.season)
	phiH, pw := 0.0, 1.0
	for h := range out {
		pw *= p.phi
		phiH += pw
		base := st.level + phiH*st.trend
		switch spec.Season {
		case SeasonAdditive:
			base += st.season[(st.next+h)%m]
		case SeasonMultiplicative:
			base *= st.season[(st.next+h)%m]
		}
		out[h] = base
	}
}

// analytic says whether the model is in Hyndman et al.'s (2008) class 1
// (additive error, additive or no seasonality) with closed-form variances.
func (mod *etsModel) analytic() bool {
	return mod.spec.Error == ErrorAdditive && mod.spec.Season != SeasonMultiplicative
}

// analyticVariance is the h-step forecast variance of a class 1 model.
//
// Hyndman et al. (2008), Table 6.1 (fpp3 Table 9.8):
// v_h = σ²[1 + Σ_{j=1}^{h-1} c_j²], c_j = α + βφ_j + γ d_{j,m},
// φ_j = φ + … + φ^j (j when undamped, 0 without trend), d_{j,m} = 1 when m
// divides j.
func (mod *etsModel) analyticVariance(out []float64) {
	sum, phiJ, pw := 0.0, 0.0, 1.0
	for h := range out {
		out[h] = mod.sigma2 * (1 + sum)
		j := h + 1
		pw *= mod.p.phi
		phiJ += pw
		c := mod.p.alpha
		if mod.spec.Trend != TrendNone {
			c += mod.p.beta * phiJ
		}
		if mod.spec.Season != SeasonNone && mod.m > 0 && j%mod.m == 0 {
			c += mod.p.gamma
		}
		sum += c * c
	}
}

// simulate draws future sample paths from the fitted state-space model
// (Hyndman et al. 2008, §6.1: simulation for the nonlinear classes) and
// returns them as paths[h][i].
func (mod *etsModel) simulate(horizon, nPaths int, rng *rand.Rand) [][]float64 {
	out := make([][]float64, horizon)
	for h := range out {
		out[h] = make([]float64, nPaths)
	}
	sd := math.Sqrt(mod.sigma2)
	var st etsState
	y := make([]float64, 1)
	tmp := make([]float64, 1)
	for i := range nPaths {
		st.copyFrom(&mod.final)
		for h := range horizon {
			etsPointForecast(mod.spec, &mod.p, &st, tmp)
			mu := tmp[0]
			eps := sd * rng.NormFloat64()
			if mod.spec.Error == ErrorMultiplicative {
				y[0] = mu * (1 + eps)
			} else {
				y[0] = mu + eps
			}
			out[h][i] = y[0]
			if r := etsRun(mod.spec, &mod.p, y, &st); !r.ok {
				// A path whose state left the admissible region keeps its
				// last value: rare, and better than a NaN quantile.
				for k := h + 1; k < horizon; k++ {
					out[k][i] = y[0]
				}
				break
			}
		}
	}
	return out
}

func meanSD(y []float64) (float64, float64) {
	if len(y) == 0 {
		return 0, 0
	}
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	ss := 0.0
	for _, v := range y {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(y)))
}
