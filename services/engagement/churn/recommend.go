package churn

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Ratios above which a segment is called out.
const (
	highRatio   = 1.5 // "prioritise"
	urgentRatio = 2.0 // "target them first"
)

// recommend turns the report's figures into plain suggestions:
//
//  1. the at-risk count overall, when any listener is at risk;
//  2. each segment of at least MinSegment current listeners whose predicted
//     rate is at least 1.5× the overall one (2× reads "target them first");
//  3. each segment of at least MinSegment labelled listeners whose observed
//     rate is at least 1.5× the overall observed rate.
//
// Segment suggestions are ordered by ratio, highest first; the list is
// capped at MaxRecommendations.
func recommend(rep Report, opt Options) []Recommendation {
	var out []Recommendation
	if rep.AtRisk > 0 {
		share := float64(rep.AtRisk) / float64(rep.Current)
		out = append(out, Recommendation{Dimension: "all", Value: "all", Figure: share,
			Text: fmt.Sprintf("%d of %d listeners (%s) are at or above the %s churn-risk threshold: send them a re-engagement message.",
				rep.AtRisk, rep.Current, pct(share), pct(rep.Threshold))})
	}
	type ranked struct {
		r     Recommendation
		ratio float64
	}
	var segs []ranked
	overall := rep.Overall.PredictedRate
	for _, s := range rep.Segments {
		if s.Listeners >= opt.MinSegment && overall > 0 {
			if ratio := s.PredictedRate / overall; ratio >= highRatio {
				action := "prioritise them in re-engagement"
				if ratio >= urgentRatio {
					action = "target them first"
				}
				segs = append(segs, ranked{ratio: ratio, r: Recommendation{Dimension: s.Dimension, Value: s.Value, Figure: s.PredictedRate,
					Text: fmt.Sprintf("%s have a predicted churn of %s (about %d of %d), %s the average of %s: %s.",
						describe(s), pct(s.PredictedRate), int(math.Round(s.ExpectedChurners)), s.Listeners,
						times(ratio), pct(overall), action)}})
			}
		}
		if s.Labelled >= opt.MinSegment && s.ObservedRate != nil && rep.Overall.ObservedRate != nil && *rep.Overall.ObservedRate > 0 {
			if ratio := *s.ObservedRate / *rep.Overall.ObservedRate; ratio >= highRatio {
				segs = append(segs, ranked{ratio: ratio, r: Recommendation{Dimension: s.Dimension, Value: s.Value, Figure: *s.ObservedRate,
					Text: fmt.Sprintf("%s churned at %s over the last %d days (%d of %d labelled), %s the average of %s.",
						describe(s), pct(*s.ObservedRate), rep.HorizonDays, s.ObservedChurned, s.Labelled,
						times(ratio), pct(*rep.Overall.ObservedRate))}})
			}
		}
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].ratio > segs[j].ratio })
	for _, s := range segs {
		out = append(out, s.r)
	}
	if len(out) > opt.MaxRecommendations {
		out = out[:opt.MaxRecommendations]
	}
	return out
}

// describe names a segment's listeners in a sentence.
func describe(s Segment) string {
	switch s.Dimension {
	case "plan":
		return fmt.Sprintf("Listeners on the %s plan", s.Value)
	case "country":
		return fmt.Sprintf("Listeners in %s", s.Value)
	case "ageBand":
		return fmt.Sprintf("Listeners aged %s", s.Value)
	case "activity":
		return fmt.Sprintf("Listeners in activity quartile %s", s.Value)
	case "plan+country":
		plan, country, _ := strings.Cut(s.Value, "+")
		return fmt.Sprintf("Listeners on the %s plan in %s", plan, country)
	}
	return fmt.Sprintf("Listeners with %s %s", s.Dimension, s.Value)
}

func pct(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

func times(r float64) string { return fmt.Sprintf("%.1f×", r) }
