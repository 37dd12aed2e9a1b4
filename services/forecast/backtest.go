package forecast

import "math"

// backtester evaluates models over a rolling origin (Hyndman &
// Athanasopoulos, fpp3 §5.10, "evaluation on a rolling forecasting origin"):
// fit on y[:n0], then forecast h steps from each of the k origins n0 …
// n0+k-1. Parameters are not re-estimated at each origin, only the states
// roll forward, which keeps the cost at one extra fit per model.
type backtester struct {
	y        []float64
	m        int
	n0, k, h int
}

func (b backtester) ok(need int) bool { return b.n0 >= need && b.n0 >= b.m+1 && b.k >= 1 && b.h >= 1 }

// score turns forecasts (one row per origin) into MAE, MAPE and MASE; the
// MASE scale is the in-sample MAE of the seasonal naive method on y[:n0]
// (Hyndman & Koehler 2006).
func (b backtester) score(fc [][]float64) *Backtest {
	var absSum, pctSum float64
	var cnt, pctCnt int
	for i, row := range fc {
		for j, f := range row {
			a := b.y[b.n0+i+j]
			e := math.Abs(a - f)
			absSum += e
			cnt++
			if a != 0 {
				pctSum += e / math.Abs(a)
				pctCnt++
			}
		}
	}
	bt := &Backtest{Origins: b.k, HorizonPeriods: b.h, TrainingPoints: b.n0, MAE: absSum / float64(cnt)}
	if math.IsNaN(bt.MAE) || math.IsInf(bt.MAE, 0) {
		return nil
	}
	if pctCnt > 0 {
		bt.MAPE = ptr(100 * pctSum / float64(pctCnt))
	}
	scale := 0.0
	for t := b.m; t < b.n0; t++ {
		scale += math.Abs(b.y[t] - b.y[t-b.m])
	}
	scale /= float64(b.n0 - b.m)
	if scale > 0 {
		bt.MASE = ptr(bt.MAE / scale)
	}
	return bt
}

func (b backtester) ets(full *etsModel) *Backtest {
	if !b.ok(etsMinPoints(full.spec, b.m)) {
		return nil
	}
	f := newETSFitter(full.spec, b.y[:b.n0], b.m)
	// Starting from the full-sample optimum makes the refit short.
	mod, ok := f.fit(f.encode(&full.p), etsMaxEvals(f.dim())/2)
	if !ok {
		return nil
	}
	fc := make([][]float64, b.k)
	st := etsState{}
	st.copyFrom(&mod.final)
	for i := range b.k {
		o := b.n0 + i
		fc[i] = make([]float64, b.h)
		etsPointForecast(mod.spec, &mod.p, &st, fc[i])
		if r := etsRun(mod.spec, &mod.p, b.y[o:o+1], &st); !r.ok {
			return nil
		}
	}
	return b.score(fc)
}

func (b backtester) theta(seasonal, positive bool, full *thetaModel) *Backtest {
	if !b.ok(thetaMinPoints(seasonal, b.m)) {
		return nil
	}
	th, ok := fitTheta(b.y[:b.n0], b.m, seasonal, positive, full)
	if !ok {
		return nil
	}
	return b.score(th.roll(b.y, b.k, b.h))
}

func (b backtester) snaive() *Backtest {
	if !b.ok(snaiveMinPoints(b.m)) {
		return nil
	}
	s := &snaiveModel{m: b.m, y: b.y}
	fc := make([][]float64, b.k)
	for i := range b.k {
		fc[i] = s.pointsFrom(b.n0+i, b.h)
	}
	return b.score(fc)
}
