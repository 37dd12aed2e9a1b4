// Package sentiment scores listener feedback with VADER and summarises it:
// overall and per-source labels, topics and the trend over time.
//
// Scoring is delegated to github.com/jonreiter/govader, a Go port of VADER
// (Hutto & Gilbert, "VADER: A Parsimonious Rule-based Model for Sentiment
// Analysis of Social Media Text", ICWSM 2014). Its lexicon and rules
// (negation, boosters, "but", capitals, punctuation, emoticons and emoji)
// are used as they are; this package adds only aggregation on top.
//
// The package knows nothing of HTTP or storage; it computes.
package sentiment

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jonreiter/govader"
)

// Thresholds on the VADER compound score, as recommended in the
// vaderSentiment README ("About the Scoring").
const (
	PositiveThreshold = 0.05
	NegativeThreshold = -0.05
	// MixedShare is the share of positive texts and of negative texts that
	// must both be reached for a set of texts to be labelled mixed.
	MixedShare = 0.25
)

// Label is the sentiment class of a text or of a set of texts.
type Label string

// Labels. LabelMixed is only given to sets of texts, never to one text.
const (
	LabelPositive Label = "positive"
	LabelNeutral  Label = "neutral"
	LabelNegative Label = "negative"
	LabelMixed    Label = "mixed"
)

// ErrNoTexts is returned when there is nothing to score.
var ErrNoTexts = errors.New("sentiment: no non-blank texts to analyse")

// Text is one piece of feedback: a comment, review, reply or message.
type Text struct {
	ID     string    `json:"id,omitempty"`
	Source string    `json:"source,omitempty"` // e.g. "youtube", "email"; blank is reported as "unknown"
	Body   string    `json:"body"`
	At     time.Time `json:"at,omitzero"`
}

// Score is the VADER result for one text. Negative, Neutral and Positive
// are proportions of the text; Compound is the normalised sum in [-1, 1].
type Score struct {
	Negative float64 `json:"negative"`
	Neutral  float64 `json:"neutral"`
	Positive float64 `json:"positive"`
	Compound float64 `json:"compound"`
}

// Scored is a text with its score and per-text label.
type Scored struct {
	Text
	Score Score `json:"score"`
	Label Label `json:"label"`
}

// Analyzer scores texts. It holds the VADER lexicon (built once, ~7,500
// entries) and is safe for concurrent use: scoring only reads it.
type Analyzer struct {
	sia *govader.SentimentIntensityAnalyzer
	// lexicon is the lower-cased VADER lexicon, used by Topics to keep
	// sentiment words out of topic phrases.
	lexicon map[string]float64
}

// NewAnalyzer builds an Analyzer. Building the lexicon takes a few
// milliseconds, so build one and share it.
func NewAnalyzer() *Analyzer {
	sia := govader.NewSentimentIntensityAnalyzer()
	return &Analyzer{sia: sia, lexicon: sia.Lexicon}
}

// Score scores one text. Runs of whitespace (tabs, newlines, repeated
// spaces) are collapsed to one space first: the reference splits on any
// whitespace (Python's str.split()), while govader splits on single spaces
// only, so without this a double space or a newline would shift VADER's
// word windows. Blank text scores as neutral (compound 0).
//
// Compound agrees with the reference vaderSentiment to 4 decimals on the
// examples of its README (see vader_test.go); the pos/neu proportions
// differ slightly on two of them.
func (a *Analyzer) Score(text string) (s Score) {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return Score{Neutral: 1}
	}
	defer func() {
		// govader indexes token windows by hand; an input we did not foresee
		// must not take the caller down with it. Such a text scores neutral.
		if recover() != nil {
			s = Score{Neutral: 1}
		}
	}()
	r := a.sia.PolarityScores(text)
	return Score{Negative: r.Negative, Neutral: r.Neutral, Positive: r.Positive, Compound: r.Compound}
}

// Classify labels one compound score: positive at or above 0.05, negative at
// or below -0.05, neutral in between (the vaderSentiment README thresholds).
func Classify(compound float64) Label {
	switch {
	case compound >= PositiveThreshold:
		return LabelPositive
	case compound <= NegativeThreshold:
		return LabelNegative
	default:
		return LabelNeutral
	}
}

// Distribution counts texts per label. Shares are fractions of Total.
type Distribution struct {
	Total         int     `json:"total"`
	Positive      int     `json:"positive"`
	Neutral       int     `json:"neutral"`
	Negative      int     `json:"negative"`
	PositiveShare float64 `json:"positiveShare"`
	NeutralShare  float64 `json:"neutralShare"`
	NegativeShare float64 `json:"negativeShare"`
}

// Group summarises a set of scored texts.
type Group struct {
	N            int          `json:"n"`
	MeanCompound float64      `json:"meanCompound"`
	Label        Label        `json:"label"`
	Distribution Distribution `json:"distribution"`
}

// SourceGroup is the summary of the texts from one source.
type SourceGroup struct {
	Source string `json:"source"`
	Group
}

// Summary is the result of Analyze.
type Summary struct {
	Overall Group `json:"overall"`
	// BySource is sorted by descending N, then by source name.
	BySource []SourceGroup `json:"bySource"`
	// Skipped counts blank texts, which are left out of every figure.
	Skipped int      `json:"skipped"`
	Texts   []Scored `json:"texts"`
}

// Analyze scores every non-blank text and summarises them overall and per
// source. It returns ErrNoTexts when no text has any content.
func (a *Analyzer) Analyze(texts []Text) (Summary, error) {
	scored := make([]Scored, 0, len(texts))
	skipped := 0
	for _, t := range texts {
		if strings.TrimSpace(t.Body) == "" {
			skipped++
			continue
		}
		if t.Source == "" {
			t.Source = "unknown"
		}
		s := a.Score(t.Body)
		scored = append(scored, Scored{Text: t, Score: s, Label: Classify(s.Compound)})
	}
	sum, err := Summarise(scored)
	sum.Skipped = skipped
	return sum, err
}

// Summarise aggregates texts that are already scored.
func Summarise(scored []Scored) (Summary, error) {
	if len(scored) == 0 {
		return Summary{}, ErrNoTexts
	}
	bySource := map[string][]Scored{}
	for _, s := range scored {
		bySource[s.Source] = append(bySource[s.Source], s)
	}
	groups := make([]SourceGroup, 0, len(bySource))
	for src, ss := range bySource {
		groups = append(groups, SourceGroup{Source: src, Group: group(ss)})
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].N != groups[j].N {
			return groups[i].N > groups[j].N
		}
		return groups[i].Source < groups[j].Source
	})
	return Summary{Overall: group(scored), BySource: groups, Texts: scored}, nil
}

// group computes the summary of a non-empty set of scored texts.
func group(ss []Scored) Group {
	var d Distribution
	total := 0.0
	for _, s := range ss {
		total += s.Score.Compound
		switch Classify(s.Score.Compound) {
		case LabelPositive:
			d.Positive++
		case LabelNegative:
			d.Negative++
		default:
			d.Neutral++
		}
	}
	n := len(ss)
	d.Total = n
	d.PositiveShare = float64(d.Positive) / float64(n)
	d.NeutralShare = float64(d.Neutral) / float64(n)
	d.NegativeShare = float64(d.Negative) / float64(n)
	mean := total / float64(n)
	return Group{N: n, MeanCompound: mean, Label: GroupLabel(mean, d), Distribution: d}
}

// GroupLabel labels a set of texts. The rule:
//
//   - mixed, when at least 25% of the texts are positive AND at least 25%
//     are negative (opinion is split, whatever the mean says);
//   - otherwise the label of the mean compound score: positive at >= 0.05,
//     negative at <= -0.05, neutral in between.
//
// A split audience averages out near zero, so without "mixed" a polarised
// set would be reported as neutral.
func GroupLabel(meanCompound float64, d Distribution) Label {
	if d.Total > 0 && d.PositiveShare >= MixedShare && d.NegativeShare >= MixedShare {
		return LabelMixed
	}
	return Classify(meanCompound)
}

// String renders a group briefly, for logs and test failures.
func (g Group) String() string {
	return fmt.Sprintf("%s (mean %.3f over %d: +%d =%d -%d)", g.Label, g.MeanCompound, g.N,
		g.Distribution.Positive, g.Distribution.Neutral, g.Distribution.Negative)
}
