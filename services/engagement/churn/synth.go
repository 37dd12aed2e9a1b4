package churn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Synthesize makes n labelled listeners whose churn follows a known
// process, for tests and demo data. The same seed and n give the same
// listeners; listener i is the same whatever n (each has its own PCG
// stream), so a smaller set is a prefix of a larger one.
//
// The process, per listener:
//
//   - plan free (55%), premium (35%) or family (10%); country US, DE, GB,
//     BR or JP; age band 18-24, 25-34, 35-44 or 45+;
//   - first seen 120 to 179 days before asOf;
//   - a daily chance of listening, logit-normal around 25% (a base
//     engagement per listener);
//   - a fade: with probability 40% (free), 20% (premium) or 30% (family)
//     the listener starts fading on a uniform random day, and from then on
//     the log-odds of listening fall by 0.2 to 0.8 per week;
//   - each day from day 14 on, a churn hazard
//     h = σ(-10 + 0.35·min(days since last listen, 30) + 1.0·[fading] + β_plan)
//     with β_free = 0.4, β_premium = -0.6, β_family = 0; after churning
//     there is no more activity and ChurnedAt is that day.
//
// Churn thus depends on recency, on the trend (fading) and on the plan.
// About 40% of listeners churn at some point; at a 30-day horizon, one in nine
// of those present at the observation date churn within it (about 11%).
func Synthesize(seed uint64, n int, asOf time.Time) []Listener {
	if n <= 0 {
		return nil
	}
	y, m, d := asOf.Date()
	end := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	plans := []string{"free", "premium", "family"}
	fadeP := []float64{0.4, 0.2, 0.3}
	planBeta := []float64{0.4, -0.6, 0}
	countries := []string{"US", "DE", "GB", "BR", "JP"}
	countryW := []float64{0.3, 0.2, 0.2, 0.15, 0.15}
	ages := []string{"18-24", "25-34", "35-44", "45+"}
	ageW := []float64{0.3, 0.35, 0.2, 0.15}

	out := make([]Listener, n)
	for i := range out {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		plan := pick(r, []float64{0.55, 0.35, 0.10})
		days := 120 + r.IntN(60)
		first := end.AddDate(0, 0, -days)
		base := logit(0.25) + 0.9*r.NormFloat64()
		fadeStart, fadeRate := math.MaxInt, 0.0
		if r.Float64() < fadeP[plan] {
			fadeStart = r.IntN(days)
			fadeRate = 0.2 + 0.6*r.Float64()
		}
		l := Listener{
			ID: fmt.Sprintf("L%06d", i), Plan: plans[plan],
			Country: countries[pick(r, countryW)], AgeBand: ages[pick(r, ageW)],
			FirstSeen: first, Labelled: true,
			Activity: make([]Day, 0, days/3),
		}
		sinceListen := 0
		for t := range days {
			lo := base
			fading := t >= fadeStart
			if fading {
				lo -= fadeRate * float64(t-fadeStart) / 7
			}
			if t >= 14 {
				h := sigmoid(-10 + 0.35*float64(min(sinceListen, 30)) + 1.0*b2f(fading) + planBeta[plan])
				if r.Float64() < h {
					c := first.AddDate(0, 0, t)
					l.ChurnedAt = &c
					break
				}
			}
			if r.Float64() < sigmoid(lo) {
				sessions := int32(1 + r.IntN(3))
				minutes := float64(sessions) * (10 + 30*r.Float64())
				l.Activity = append(l.Activity, Day{Date: first.AddDate(0, 0, t), Sessions: sessions,
					Minutes: math.Round(minutes*10) / 10, Tracks: int32(math.Round(minutes / 3.5))})
				sinceListen = 0
			} else {
				sinceListen++
			}
		}
		out[i] = l
	}
	return out
}

func pick(r *rand.Rand, w []float64) int {
	u := r.Float64()
	for i, p := range w {
		if u < p {
			return i
		}
		u -= p
	}
	return len(w) - 1
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
