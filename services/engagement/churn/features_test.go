package churn

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var cut = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return cut.AddDate(0, 0, -n) }

func TestComputeFeatures(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    Listener
		want Features
	}{
		{
			name: "never active: recency is tenure",
			l:    Listener{FirstSeen: daysAgo(40)},
			want: Features{RecencyDays: 40},
		},
		{
			name: "never active long ago: recency capped",
			l:    Listener{FirstSeen: daysAgo(500)},
			want: Features{RecencyDays: RecencyCap},
		},
		{
			name: "activity on and after the cut is ignored",
			l: Listener{FirstSeen: daysAgo(100), Activity: []Day{
				{Date: daysAgo(3), Sessions: 1, Minutes: 30},
				{Date: cut, Sessions: 5, Minutes: 500},
				{Date: cut.AddDate(0, 0, 2), Sessions: 5, Minutes: 500},
			}},
			// 30 minutes in week 8 only: slope of (0,...,0,30) on 1..8 is
			// 3.5·30/42 = 2.5, over a mean of 3.75: 2/3.
			want: Features{RecencyDays: 3, ActiveDays28: 1, ActiveDays90: 1, Minutes28: 30, Trend: 2.0 / 3},
		},
		{
			name: "windows: 28 and 90 days, duplicate dates counted once",
			l: Listener{FirstSeen: daysAgo(200), Activity: []Day{
				{Date: daysAgo(1), Tracks: 2},               // active with tracks only
				{Date: daysAgo(28), Minutes: 10},            // last day of the 28-day window
				{Date: daysAgo(28), Minutes: 5},             // same date again
				{Date: daysAgo(29), Minutes: 100},           // outside 28, inside 90
				{Date: daysAgo(90), Sessions: 1},            // last day of the 90-day window
				{Date: daysAgo(91), Sessions: 1},            // outside both
				{Date: daysAgo(5), Sessions: 0, Minutes: 0}, // an inactive row
			}},
			want: Features{RecencyDays: 1, ActiveDays28: 2, ActiveDays90: 4, Minutes28: 15,
				// weeks (oldest..latest): days 50-56 … days 1-7. Day 28 is in
				// week 5 (15 min), day 29 in week 4 (100 min); slope of
				// (0,0,0,100,15,0,0,0) = (100·-0.5 + 15·0.5)/42 = -1.0119,
				// over a mean of 14.375.
				Trend: (-0.5*100 + 0.5*15) / 42 / (115.0 / 8)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ComputeFeatures(tc.l, cut)
			assert.InDelta(t, tc.want.RecencyDays, got.RecencyDays, 1e-12)
			assert.InDelta(t, tc.want.ActiveDays28, got.ActiveDays28, 1e-12)
			assert.InDelta(t, tc.want.ActiveDays90, got.ActiveDays90, 1e-12)
			assert.InDelta(t, tc.want.Minutes28, got.Minutes28, 1e-12)
			assert.InDelta(t, tc.want.Trend, got.Trend, 1e-12)
		})
	}
}

func TestTrendIsLinearGrowthOverMean(t *testing.T) {
	// Weekly minutes 10, 20, …, 80 (oldest to latest): slope 10 a week over
	// a mean of 45.
	var act []Day
	for w := range 8 {
		act = append(act, Day{Date: daysAgo(7*(8-w) - 3), Minutes: float64(10 * (w + 1))})
	}
	f := ComputeFeatures(Listener{FirstSeen: daysAgo(100), Activity: act}, cut)
	assert.InDelta(t, 10.0/45, f.Trend, 1e-12)
}

func TestCivilDayUsesTheDatesOwnCalendar(t *testing.T) {
	// 00:30 on 31 May in Berlin is still 30 May in UTC; it is 31 May that
	// the listener saw, so it is 1 day before the cut.
	berlin := time.FixedZone("CEST", 2*3600)
	l := Listener{FirstSeen: daysAgo(10), Activity: []Day{{Date: time.Date(2026, 5, 31, 0, 30, 0, 0, berlin), Sessions: 1}}}
	assert.Equal(t, 1.0, ComputeFeatures(l, cut).RecencyDays)
}

func TestCivilDay(t *testing.T) {
	assert.Equal(t, int64(0), civilDay(time.Date(1970, 1, 1, 23, 59, 0, 0, time.UTC)))
	assert.Equal(t, int64(-1), civilDay(time.Date(1969, 12, 31, 0, 0, 1, 0, time.UTC)))
	tokyo := time.FixedZone("JST", 9*3600)
	assert.Equal(t, civilDay(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)), civilDay(time.Date(2026, 6, 1, 1, 0, 0, 0, tokyo)))
}
