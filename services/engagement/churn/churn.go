// Package churn scores listeners' risk of churning from their daily
// activity, fits a logistic model when churn labels exist, and summarises
// risk by segment with rule-based recommendations.
//
// It computes only: no HTTP, storage or Jarvis types.
//
// # Leakage
//
// A model fitted on features that saw the churn itself (the silence after
// a listener left) would look perfect and predict nothing. So the labelled
// training set is observed at ObservationDate = AsOf - HorizonDays: features
// use only activity on days before ObservationDate, and the label is whether
// the listener churned in [ObservationDate, AsOf). Listeners who churned
// before ObservationDate are left out of training (they were already gone).
// The fitted model then scores current listeners with features at AsOf,
// which estimates churn within the next HorizonDays. A ChurnedAt on or
// after AsOf is beyond the analysis and counts as not (yet) churned.
package churn

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Day is one day of a listener's activity. Days without activity may be
// omitted; a day counts as active when any of its figures is positive.
type Day struct {
	Date     time.Time `json:"date"` // its calendar date, in its own location, is used
	Sessions int32     `json:"sessions"`
	Minutes  float64   `json:"minutes"`
	Tracks   int32     `json:"tracks"`
}

// Listener is one listener of an artist.
type Listener struct {
	ID        string    `json:"id"`
	Plan      string    `json:"plan,omitempty"`
	Country   string    `json:"country,omitempty"`
	AgeBand   string    `json:"ageBand,omitempty"`
	FirstSeen time.Time `json:"firstSeen"`
	// Activity need not be sorted; several entries for one date add up.
	Activity []Day `json:"activity"`
	// Labelled says ChurnedAt is known: nil then means the listener stayed.
	// A non-nil ChurnedAt implies Labelled.
	Labelled  bool       `json:"labelled,omitempty"`
	ChurnedAt *time.Time `json:"churnedAt,omitempty"`
}

func (l *Listener) labelled() bool { return l.Labelled || l.ChurnedAt != nil }

// Feature windows and caps.
const (
	// RecencyCap bounds RecencyDays so that one long-gone listener does not
	// stretch the standardised scale for everyone else.
	RecencyCap = 365
	trendWeeks = 8
)

// Features are the behavioural inputs of the risk score, computed from
// activity on days strictly before a cut date.
type Features struct {
	// RecencyDays is the number of days from the last active day to the
	// cut (1 = active the day before). With no activity before the cut it
	// is the days since FirstSeen. Capped at RecencyCap.
	RecencyDays float64 `json:"recencyDays"`
	// ActiveDays28 and ActiveDays90 count distinct active days in the 28
	// and 90 days before the cut (frequency).
	ActiveDays28 float64 `json:"activeDays28"`
	ActiveDays90 float64 `json:"activeDays90"`
	// Minutes28 is the minutes listened in the 28 days before the cut
	// (the monetary-like volume). Models use log(1 + Minutes28).
	Minutes28 float64 `json:"minutes28"`
	// Trend is the OLS slope of weekly minutes over the 8 weeks before the
	// cut (week 1 oldest, week 8 latest), divided by the mean weekly
	// minutes, so it is scale-free: -0.1 means losing about 10% of the
	// average week per week. Bounded by ±2/3; 0 with no minutes.
	Trend float64 `json:"trend"`
}

// FeatureNames name the model inputs, in vector order.
var FeatureNames = []string{"recencyDays", "activeDays28", "activeDays90", "logMinutes28", "trend"}

// vector returns the model inputs in FeatureNames order.
func (f Features) vector() []float64 {
	return []float64{f.RecencyDays, f.ActiveDays28, f.ActiveDays90, math.Log1p(f.Minutes28), f.Trend}
}

// civilDay numbers calendar dates, in t's own location, so that a date
// stored as local midnight is not moved to another day by UTC conversion.
func civilDay(t time.Time) int64 {
	_, offset := t.Zone()
	s := t.Unix() + int64(offset)
	day := s / 86400
	if s%86400 < 0 {
		day-- // floor, for dates before 1970
	}
	return day
}

// ComputeFeatures computes a listener's features from activity on days
// before cut's date.
func ComputeFeatures(l Listener, cut time.Time) Features {
	c := civilDay(cut)
	var active [90]bool
	var weekly [trendWeeks]float64
	var f Features
	last := int64(math.MinInt64)
	for _, d := range l.Activity {
		if d.Sessions <= 0 && d.Minutes <= 0 && d.Tracks <= 0 {
			continue
		}
		day := civilDay(d.Date)
		ago := c - day // 1 = the day before the cut
		if ago < 1 {
			continue
		}
		if day > last {
			last = day
		}
		if ago <= 90 {
			active[ago-1] = true
		}
		mins := math.Max(d.Minutes, 0)
		if ago <= 28 {
			f.Minutes28 += mins
		}
		if ago <= 7*trendWeeks {
			weekly[trendWeeks-1-(ago-1)/7] += mins
		}
	}
	for i, a := range active {
		if a {
			f.ActiveDays90++
			if i < 28 {
				f.ActiveDays28++
			}
		}
	}
	if last == math.MinInt64 {
		f.RecencyDays = float64(max(c-civilDay(l.FirstSeen), 0))
	} else {
		f.RecencyDays = float64(c - last)
	}
	f.RecencyDays = math.Min(f.RecencyDays, RecencyCap)
	f.Trend = normalisedSlope(weekly[:])
	return f
}

// normalisedSlope is the ordinary least squares slope of ys against
// 1..len(ys), divided by the mean of ys; 0 when the mean is 0.
func normalisedSlope(ys []float64) float64 {
	n := float64(len(ys))
	xm := (n + 1) / 2
	ym := 0.0
	for _, y := range ys {
		ym += y
	}
	ym /= n
	if ym <= 0 {
		return 0
	}
	sxy, sxx := 0.0, 0.0
	for i, y := range ys {
		dx := float64(i+1) - xm
		sxy += dx * (y - ym)
		sxx += dx * dx
	}
	return sxy / sxx / ym
}

// Errors of Analyze.
var (
	ErrNoListeners = errors.New("churn: no listeners to analyse")
	ErrNoAsOf      = errors.New("churn: the as-of date is not set")
)

// validate checks the input listeners and returns the first problem.
func validate(ls []Listener) error {
	if len(ls) == 0 {
		return ErrNoListeners
	}
	seen := make(map[string]struct{}, len(ls))
	for i := range ls {
		l := &ls[i]
		if l.ID == "" {
			return fmt.Errorf("churn: listener %d has no id", i)
		}
		if _, dup := seen[l.ID]; dup {
			return fmt.Errorf("churn: listener id %q appears twice", l.ID)
		}
		seen[l.ID] = struct{}{}
		if l.FirstSeen.IsZero() {
			return fmt.Errorf("churn: listener %q has no first-seen date", l.ID)
		}
		for _, d := range l.Activity {
			if d.Sessions < 0 || d.Tracks < 0 || d.Minutes < 0 || math.IsNaN(d.Minutes) || math.IsInf(d.Minutes, 0) {
				return fmt.Errorf("churn: listener %q has invalid activity on %s (sessions %d, minutes %v, tracks %d)",
					l.ID, d.Date.Format(time.DateOnly), d.Sessions, d.Minutes, d.Tracks)
			}
		}
	}
	return nil
}

// TrendWeeks is the number of weeks of minutes the trend is fitted over.
const TrendWeeks = trendWeeks

// Windows are a listener's activity before a cut date summed over the
// windows Features are made of, as a database can compute them: lastActive
// is the last active day before the cut (nil for none), active28 and
// active90 the active days in the 28 and 90 days before it, minutes28 the
// minutes in the 28 days before it, and weekly the minutes of each of the
// TrendWeeks weeks before it, oldest first (week TrendWeeks-1 ends the day
// before the cut).
type Windows struct {
	LastActive       *time.Time
	Active28         int
	Active90         int
	Minutes28        float64
	Weekly           [trendWeeks]float64
	FirstSeen, Until time.Time // the listener's first-seen date and the cut
}

// WindowFeatures turns window sums into Features exactly as ComputeFeatures
// does from daily activity.
func WindowFeatures(w Windows) Features {
	c := civilDay(w.Until)
	f := Features{ActiveDays28: float64(w.Active28), ActiveDays90: float64(w.Active90), Minutes28: w.Minutes28}
	if w.LastActive == nil {
		f.RecencyDays = float64(max(c-civilDay(w.FirstSeen), 0))
	} else {
		f.RecencyDays = float64(c - civilDay(*w.LastActive))
	}
	f.RecencyDays = math.Min(f.RecencyDays, RecencyCap)
	f.Trend = normalisedSlope(w.Weekly[:])
	return f
}
