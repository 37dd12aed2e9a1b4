package churn

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Options configure Analyze. Only AsOf is required.
type Options struct {
	// AsOf is the date the analysis speaks for; activity on and after it
	// is ignored.
	AsOf time.Time
	// HorizonDays is the churn window: labels are churn within this many
	// days of the observation date, and scores predict churn within this
	// many days of AsOf. 0 means 30.
	HorizonDays int
	// Threshold is the probability at or above which a listener is at
	// risk. 0 means 0.5.
	Threshold float64
	// Folds for cross-validation; 0 means 5.
	Folds int
	// Lambda is the L2 penalty of Fit; 0 means 0.01. Use a tiny positive
	// value for an almost unpenalised fit.
	Lambda float64
	// MinLabelled is the fewest labelled training listeners to fit a model
	// rather than use Unfitted; 0 means 50.
	MinLabelled int
	// MinSegment is the fewest listeners a segment needs for a
	// recommendation; 0 means 20.
	MinSegment int
	// MaxRecommendations caps the list; 0 means 6.
	MaxRecommendations int
	// Seed makes cross-validation folds reproducible.
	Seed uint64
}

func (o Options) withDefaults() Options {
	if o.HorizonDays <= 0 {
		o.HorizonDays = 30
	}
	if o.Threshold <= 0 || o.Threshold > 1 || math.IsNaN(o.Threshold) {
		o.Threshold = 0.5
	}
	if o.Folds <= 0 {
		o.Folds = 5
	}
	if o.Lambda <= 0 || math.IsNaN(o.Lambda) {
		o.Lambda = 0.01
	}
	if o.MinLabelled <= 0 {
		o.MinLabelled = 50
	}
	if o.MinSegment <= 0 {
		o.MinSegment = 20
	}
	if o.MaxRecommendations <= 0 {
		o.MaxRecommendations = 6
	}
	return o
}

// ListenerScore is one current listener's risk.
type ListenerScore struct {
	ID          string   `json:"id"`
	Probability float64  `json:"probability"`
	AtRisk      bool     `json:"atRisk"`
	Features    Features `json:"features"`
	// Activity is the listener's activity quartile, a value of the activity segment.
	Activity string `json:"activity"`
}

// Segment is churn by one value of one dimension.
type Segment struct {
	// Dimension is "all", "plan", "country", "ageBand", "activity" or
	// "plan+country".
	Dimension string `json:"dimension"`
	Value     string `json:"value"`
	// Listeners counts current listeners (not churned by AsOf) scored.
	Listeners int `json:"listeners"`
	// PredictedRate is the mean churn probability of those listeners, and
	// ExpectedChurners its sum.
	PredictedRate    float64 `json:"predictedRate"`
	ExpectedChurners float64 `json:"expectedChurners"`
	AtRisk           int     `json:"atRisk"`
	// Labelled counts labelled training listeners in the segment and
	// ObservedChurned those who churned in [ObservationDate, AsOf);
	// ObservedRate is their ratio, absent without labelled listeners.
	Labelled        int      `json:"labelled"`
	ObservedChurned int      `json:"observedChurned"`
	ObservedRate    *float64 `json:"observedRate,omitempty"`
}

// Recommendation is one rule-based suggestion, naming the segment and the
// figure it comes from.
type Recommendation struct {
	Dimension string  `json:"dimension"`
	Value     string  `json:"value"`
	Figure    float64 `json:"figure"` // the rate the text quotes
	Text      string  `json:"text"`
}

// Report is the result of Analyze.
type Report struct {
	AsOf            time.Time `json:"asOf"`
	ObservationDate time.Time `json:"observationDate"`
	HorizonDays     int       `json:"horizonDays"`
	Threshold       float64   `json:"threshold"`
	// Fitted says whether Model was estimated from labels; when false,
	// UnfittedReason says why and Model is Unfitted().
	Fitted         bool             `json:"fitted"`
	UnfittedReason string           `json:"unfittedReason,omitempty"`
	Model          Model            `json:"model"`
	Factors        []Factor         `json:"factors"`
	CV             *CrossValidation `json:"crossValidation,omitempty"`
	// Counts.
	Listeners int `json:"listeners"` // all input listeners
	Current   int `json:"current"`   // scored: seen before AsOf, not churned by it
	Training  int `json:"training"`  // labelled and present at ObservationDate
	AtRisk    int `json:"atRisk"`
	// Overall is the "all" segment; Segments the others, by dimension then
	// descending predicted rate.
	Overall         Segment          `json:"overall"`
	Segments        []Segment        `json:"segments"`
	Recommendations []Recommendation `json:"recommendations"`
	Scores          []ListenerScore  `json:"scores"`
}

// Activity-level labels (quartiles of ActiveDays90).
var quartileNames = [4]string{"Q1 (least active)", "Q2", "Q3", "Q4 (most active)"}

// Observed is one listener with its features already computed at the two
// dates Analyze uses, for a caller whose database computes them (see
// ComputeFeatures and WindowFeatures for their meaning).
type Observed struct {
	ID        string
	Plan      string
	Country   string
	AgeBand   string
	FirstSeen time.Time
	// Labelled and ChurnedAt as in Listener.
	Labelled  bool
	ChurnedAt *time.Time
	// AtAsOf are the features at Options.AsOf. AtObservation are those at
	// the observation date, AsOf - HorizonDays; they are read only for
	// labelled listeners first seen before it.
	AtAsOf        Features
	AtObservation Features
}

func (o *Observed) labelled() bool { return o.Labelled || o.ChurnedAt != nil }

// Analyze computes features, fits a model when enough labels exist (else
// uses Unfitted), scores current listeners and summarises segments.
func Analyze(listeners []Listener, opt Options) (Report, error) {
	if opt.AsOf.IsZero() {
		return Report{}, ErrNoAsOf
	}
	if err := validate(listeners); err != nil {
		return Report{}, err
	}
	opt = opt.withDefaults()
	return analyzeObserved(observe(listeners, opt.AsOf, opt.HorizonDays), opt)
}

// observe computes each listener's features at asOf and, where training
// reads them, at the observation date.
func observe(listeners []Listener, asOf time.Time, horizonDays int) []Observed {
	obsDay := civilDay(asOf.AddDate(0, 0, -horizonDays))
	rows := make([]Observed, len(listeners))
	for i := range listeners {
		l := &listeners[i]
		rows[i] = Observed{ID: l.ID, Plan: l.Plan, Country: l.Country, AgeBand: l.AgeBand, FirstSeen: l.FirstSeen,
			Labelled: l.Labelled, ChurnedAt: l.ChurnedAt, AtAsOf: ComputeFeatures(*l, asOf)}
		if l.labelled() && civilDay(l.FirstSeen) < obsDay {
			rows[i].AtObservation = ComputeFeatures(*l, asOf.AddDate(0, 0, -horizonDays))
		}
	}
	return rows
}

// AnalyzeObserved is Analyze over listeners whose features are already
// computed.
func AnalyzeObserved(rows []Observed, opt Options) (Report, error) {
	if opt.AsOf.IsZero() {
		return Report{}, ErrNoAsOf
	}
	if len(rows) == 0 {
		return Report{}, ErrNoListeners
	}
	seen := make(map[string]struct{}, len(rows))
	for i := range rows {
		o := &rows[i]
		if o.ID == "" {
			return Report{}, fmt.Errorf("churn: listener %d has no id", i)
		}
		if _, dup := seen[o.ID]; dup {
			return Report{}, fmt.Errorf("churn: listener id %q appears twice", o.ID)
		}
		seen[o.ID] = struct{}{}
		if o.FirstSeen.IsZero() {
			return Report{}, fmt.Errorf("churn: listener %q has no first-seen date", o.ID)
		}
	}
	return analyzeObserved(rows, opt.withDefaults())
}

func analyzeObserved(rows []Observed, opt Options) (Report, error) {
	asOf := opt.AsOf
	obs := asOf.AddDate(0, 0, -opt.HorizonDays)
	asOfDay := civilDay(asOf)

	rep := Report{AsOf: asOf, ObservationDate: obs, HorizonDays: opt.HorizonDays,
		Threshold: opt.Threshold, Listeners: len(rows)}

	trainX, trainY, trainIdx := trainingSet(rows, asOf, opt.HorizonDays)
	rep.Training = len(trainX)

	model := Unfitted()
	switch pos := count(trainY); {
	case len(trainX) < opt.MinLabelled:
		rep.UnfittedReason = fmt.Sprintf("%d labelled listeners at the observation date %s; at least %d are needed to fit",
			len(trainX), obs.Format(time.DateOnly), opt.MinLabelled)
	case pos < opt.Folds || len(trainX)-pos < opt.Folds:
		rep.UnfittedReason = fmt.Sprintf("%d churned and %d retained labelled listeners; %d of each are needed for %d-fold cross-validation",
			pos, len(trainX)-pos, opt.Folds, opt.Folds)
	default:
		cv, cvErr := CrossValidate(trainX, trainY, opt.Folds, opt.Lambda, opt.Seed)
		m, fitErr := Fit(trainX, trainY, opt.Lambda)
		if err := errors.Join(cvErr, fitErr); err != nil {
			return Report{}, err
		}
		model, rep.CV, rep.Fitted = m, &cv, true
	}
	rep.Model, rep.Factors = model, model.Factors()

	// Current listeners, scored at AsOf.
	curIdx := make([]int, 0, len(rows))
	rep.Scores = make([]ListenerScore, 0, len(rows))
	for i := range rows {
		o := &rows[i]
		if civilDay(o.FirstSeen) >= asOfDay || (o.ChurnedAt != nil && civilDay(*o.ChurnedAt) < asOfDay) {
			continue
		}
		f := o.AtAsOf
		p := model.Score(f)
		s := ListenerScore{ID: o.ID, Probability: p, AtRisk: p >= opt.Threshold, Features: f}
		if s.AtRisk {
			rep.AtRisk++
		}
		rep.Scores = append(rep.Scores, s)
		curIdx = append(curIdx, i)
	}
	rep.Current = len(curIdx)

	// Activity quartile cut points from current listeners' ActiveDays90
	// (nearest-rank); training listeners are placed with the same cuts.
	cuts := quartileCuts(rep.Scores)
	level := func(f Features) string {
		for q, c := range cuts {
			if f.ActiveDays90 <= c {
				return quartileNames[q]
			}
		}
		return quartileNames[3]
	}
	type key struct{ dim, val string }
	agg := map[key]*Segment{}
	keys := func(o *Observed, f Features) []key {
		return []key{{"all", "all"}, {"plan", orUnknown(o.Plan)}, {"country", orUnknown(o.Country)},
			{"ageBand", orUnknown(o.AgeBand)}, {"activity", level(f)},
			{"plan+country", orUnknown(o.Plan) + "+" + orUnknown(o.Country)}}
	}
	seg := func(k key) *Segment {
		if agg[k] == nil {
			agg[k] = &Segment{Dimension: k.dim, Value: k.val}
		}
		return agg[k]
	}
	for n, i := range curIdx {
		s := &rep.Scores[n]
		s.Activity = level(s.Features)
		for _, k := range keys(&rows[i], s.Features) {
			g := seg(k)
			g.Listeners++
			g.ExpectedChurners += s.Probability
			if s.AtRisk {
				g.AtRisk++
			}
		}
	}
	for n, i := range trainIdx {
		for _, k := range keys(&rows[i], rows[i].AtObservation) {
			g := seg(k)
			g.Labelled++
			if trainY[n] {
				g.ObservedChurned++
			}
		}
	}
	for _, g := range agg {
		if g.Listeners > 0 {
			g.PredictedRate = g.ExpectedChurners / float64(g.Listeners)
		}
		if g.Labelled > 0 {
			r := float64(g.ObservedChurned) / float64(g.Labelled)
			g.ObservedRate = &r
		}
		if g.Dimension == "all" {
			rep.Overall = *g
			continue
		}
		rep.Segments = append(rep.Segments, *g)
	}
	order := map[string]int{"plan": 0, "country": 1, "ageBand": 2, "activity": 3, "plan+country": 4}
	sort.Slice(rep.Segments, func(i, j int) bool {
		a, b := rep.Segments[i], rep.Segments[j]
		if a.Dimension != b.Dimension {
			return order[a.Dimension] < order[b.Dimension]
		}
		if a.PredictedRate != b.PredictedRate {
			return a.PredictedRate > b.PredictedRate
		}
		return a.Value < b.Value
	})
	rep.Recommendations = recommend(rep, opt)
	return rep, nil
}

// TrainingSet returns the labelled rows Analyze fits on: one row of
// FeatureNames-ordered features per labelled listener first seen before,
// and not churned before, the observation date asOf - horizonDays, with
// features computed at that date and the label "churned in
// [observation date, asOf)". See the package doc on leakage.
func TrainingSet(listeners []Listener, asOf time.Time, horizonDays int) (x [][]float64, y []bool) {
	x, y, _ = trainingSet(observe(listeners, asOf, horizonDays), asOf, horizonDays)
	return x, y
}

// ObservedTrainingSet is TrainingSet over listeners whose features are
// already computed.
func ObservedTrainingSet(rows []Observed, asOf time.Time, horizonDays int) (x [][]float64, y []bool) {
	x, y, _ = trainingSet(rows, asOf, horizonDays)
	return x, y
}

func trainingSet(rows []Observed, asOf time.Time, horizonDays int) (x [][]float64, y []bool, idx []int) {
	obs := asOf.AddDate(0, 0, -horizonDays)
	asOfDay, obsDay := civilDay(asOf), civilDay(obs)
	n := len(rows)
	x, y, idx = make([][]float64, 0, n), make([]bool, 0, n), make([]int, 0, n)
	for i := range rows {
		o := &rows[i]
		if !o.labelled() || civilDay(o.FirstSeen) >= obsDay {
			continue
		}
		churned := false
		if o.ChurnedAt != nil {
			cd := civilDay(*o.ChurnedAt)
			if cd < obsDay {
				continue // already gone when observed
			}
			churned = cd < asOfDay
		}
		x, y = append(x, o.AtObservation.vector()), append(y, churned)
		idx = append(idx, i)
	}
	return x, y, idx
}

func count(ys []bool) int {
	n := 0
	for _, y := range ys {
		if y {
			n++
		}
	}
	return n
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// quartileCuts returns the 25th, 50th and 75th nearest-rank percentiles of
// ActiveDays90: the smallest value with at least k/4 of the values at or
// below it. With ties, quartile groups can be uneven.
func quartileCuts(scores []ListenerScore) [3]float64 {
	var cuts [3]float64
	if len(scores) == 0 {
		return cuts
	}
	v := make([]float64, len(scores))
	for i, s := range scores {
		v[i] = s.Features.ActiveDays90
	}
	sort.Float64s(v)
	for q := range cuts {
		r := int(math.Ceil(float64(q+1)/4*float64(len(v)))) - 1
		cuts[q] = v[max(r, 0)]
	}
	return cuts
}
