package forecast

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Point is one observation: the value measured for a calendar date.
// Only the date part (year, month, day in Date's location) is used.
type Point struct {
	Date  time.Time
	Value float64
}

// Frequency is the spacing of a series, inferred from its dates.
type Frequency int

const (
	// Daily points are one calendar day apart; seasonal period 7 (a week).
	Daily Frequency = iota + 1
	// Weekly points are 7 days apart; seasonal period 52 (about a year).
	Weekly
	// Monthly points are one calendar month apart, on the same day of the
	// month (clamped to shorter months) or all on month ends; period 12.
	Monthly
)

func (f Frequency) String() string {
	switch f {
	case Daily:
		return "daily"
	case Weekly:
		return "weekly"
	case Monthly:
		return "monthly"
	}
	return "unknown"
}

// SeasonalPeriod is the number of periods in one seasonal cycle.
func (f Frequency) SeasonalPeriod() int {
	switch f {
	case Daily:
		return 7
	case Weekly:
		return 52
	case Monthly:
		return 12
	}
	return 1
}

// maxListedDates bounds how many offending dates an error names, so that an
// answer stays short for a badly broken series.
const maxListedDates = 5

func formatDates(ds []time.Time) string {
	parts := make([]string, 0, len(ds))
	for _, d := range ds {
		parts = append(parts, d.Format(time.DateOnly))
	}
	return strings.Join(parts, ", ")
}

// IrregularSpacingError says the dates are not evenly spaced by a day, a week
// or a calendar month. Dates lists (the first few of) the points whose gap to
// the previous point breaks the spacing most of the series follows.
type IrregularSpacingError struct {
	Dates []time.Time
	Total int // how many points break the spacing in all
}

func (e *IrregularSpacingError) Error() string {
	return fmt.Sprintf("forecast: dates are not evenly spaced (daily, weekly or monthly); %d break the spacing, first: %s", e.Total, formatDates(e.Dates))
}

// DuplicateDateError says several points share a date.
type DuplicateDateError struct {
	Dates []time.Time // first few duplicated dates, each once
	Total int
}

func (e *DuplicateDateError) Error() string {
	return fmt.Sprintf("forecast: %d dates occur more than once, first: %s", e.Total, formatDates(e.Dates))
}

// InvalidValueError says some values are NaN or infinite.
type InvalidValueError struct {
	Dates []time.Time
	Total int
}

func (e *InvalidValueError) Error() string {
	return fmt.Sprintf("forecast: %d values are NaN or infinite, first at: %s", e.Total, formatDates(e.Dates))
}

// InsufficientDataError says the series is too short: Need points are
// required (for the least demanding model allowed) and Have were given.
type InsufficientDataError struct {
	Have, Need int
	Reason     string
}

func (e *InsufficientDataError) Error() string {
	return fmt.Sprintf("forecast: %d points given, at least %d needed (%s)", e.Have, e.Need, e.Reason)
}

// civil is a date without time of day, so that spacing ignores clocks and
// daylight saving changes.
type civil struct {
	y int
	m time.Month
	d int
}

func toCivil(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

func (c civil) time() time.Time { return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, time.UTC) }

// dayNumber counts days since the Unix epoch.
func (c civil) dayNumber() int64 { return c.time().Unix() / 86400 }

func (c civil) monthNumber() int { return c.y*12 + int(c.m) - 1 }

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (c civil) isMonthEnd() bool { return c.d == daysIn(c.y, c.m) }

// monthRule tells how monthly dates fall within their month.
type monthRule struct {
	monthEnd  bool
	anchorDay int // day of month, clamped to the month's length
}

func (r monthRule) dateIn(monthNumber int) civil {
	y, m := monthNumber/12, time.Month(monthNumber%12+1)
	dim := daysIn(y, m)
	if r.monthEnd {
		return civil{y, m, dim}
	}
	return civil{y, m, min(r.anchorDay, dim)}
}

// series is a validated, sorted, evenly spaced series.
type series struct {
	dates  []civil
	values []float64
	freq   Frequency
	month  monthRule
}

// nextDate steps a date forward by k periods of the series' frequency.
func (s *series) dateAfter(last civil, k int) civil {
	switch s.freq {
	case Daily:
		return toCivil(last.time().AddDate(0, 0, k))
	case Weekly:
		return toCivil(last.time().AddDate(0, 0, 7*k))
	default:
		return s.month.dateIn(last.monthNumber() + k)
	}
}

// newSeries sorts the points by date and checks values and spacing.
func newSeries(points []Point) (*series, error) {
	if len(points) < 2 {
		return nil, &InsufficientDataError{Have: len(points), Need: 2, Reason: "spacing cannot be inferred from fewer than two dates"}
	}
	pts := make([]Point, len(points))
	copy(pts, points)
	sort.SliceStable(pts, func(i, j int) bool { return toCivil(pts[i].Date).dayNumber() < toCivil(pts[j].Date).dayNumber() })

	s := &series{dates: make([]civil, len(pts)), values: make([]float64, len(pts))}
	var bad []time.Time
	badTotal := 0
	for i, p := range pts {
		s.dates[i] = toCivil(p.Date)
		s.values[i] = p.Value
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			badTotal++
			if len(bad) < maxListedDates {
				bad = append(bad, s.dates[i].time())
			}
		}
	}
	if badTotal > 0 {
		return nil, &InvalidValueError{Dates: bad, Total: badTotal}
	}

	var dup []time.Time
	dupTotal := 0
	for i := 1; i < len(s.dates); i++ {
		if s.dates[i] == s.dates[i-1] && (i == 1 || s.dates[i-1] != s.dates[i-2]) {
			dupTotal++
			if len(dup) < maxListedDates {
				dup = append(dup, s.dates[i].time())
			}
		}
	}
	if dupTotal > 0 {
		return nil, &DuplicateDateError{Dates: dup, Total: dupTotal}
	}

	if err := s.inferFrequency(); err != nil {
		return nil, err
	}
	return s, nil
}

// inferFrequency tries each spacing and keeps the first that every gap
// follows; otherwise it reports the gaps that break the spacing most gaps
// follow, so the caller can name them.
func (s *series) inferFrequency() error {
	n := len(s.dates)
	breaks := func(ok func(i int) bool) []int {
		var idx []int
		for i := 1; i < n; i++ {
			if !ok(i) {
				idx = append(idx, i)
			}
		}
		return idx
	}
	dayGap := func(i int) int64 { return s.dates[i].dayNumber() - s.dates[i-1].dayNumber() }
	daily := breaks(func(i int) bool { return dayGap(i) == 1 })
	weekly := breaks(func(i int) bool { return dayGap(i) == 7 })

	anchor := 0
	allEnds := true
	for _, d := range s.dates {
		anchor = max(anchor, d.d)
		allEnds = allEnds && d.isMonthEnd()
	}
	rule := monthRule{monthEnd: allEnds, anchorDay: anchor}
	monthly := breaks(func(i int) bool {
		mn := s.dates[i].monthNumber()
		return mn == s.dates[i-1].monthNumber()+1 && rule.dateIn(mn) == s.dates[i] && rule.dateIn(mn-1) == s.dates[i-1]
	})

	switch {
	case len(daily) == 0:
		s.freq = Daily
	case len(weekly) == 0:
		s.freq = Weekly
	case len(monthly) == 0:
		s.freq, s.month = Monthly, rule
	default:
		worst := daily
		for _, b := range [][]int{weekly, monthly} {
			if len(b) < len(worst) {
				worst = b
			}
		}
		e := &IrregularSpacingError{Total: len(worst)}
		for _, i := range worst[:min(len(worst), maxListedDates)] {
			e.Dates = append(e.Dates, s.dates[i].time())
		}
		return e
	}
	return nil
}
