package forecast

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func pointsAt(dates ...time.Time) []Point {
	pts := make([]Point, len(dates))
	for i, d := range dates {
		pts[i] = Point{Date: d, Value: float64(i + 1)}
	}
	return pts
}

func TestSpacingInference(t *testing.T) {
	tests := []struct {
		name   string
		points []Point
		freq   Frequency
		period int
		next   time.Time // the date after the last point
	}{
		{"daily", pointsAt(date(2024, 2, 27), date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)), Daily, 7, date(2024, 3, 2)},
		{"daily across a DST change in a zone", []Point{
			{Date: time.Date(2024, 3, 30, 0, 0, 0, 0, mustZone(t, "Europe/Paris"))},
			{Date: time.Date(2024, 3, 31, 0, 0, 0, 0, mustZone(t, "Europe/Paris"))},
			{Date: time.Date(2024, 4, 1, 0, 0, 0, 0, mustZone(t, "Europe/Paris"))},
		}, Daily, 7, date(2024, 4, 2)},
		{"weekly", pointsAt(date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 15)), Weekly, 52, date(2024, 1, 22)},
		{"monthly same day", pointsAt(date(2023, 11, 15), date(2023, 12, 15), date(2024, 1, 15)), Monthly, 12, date(2024, 2, 15)},
		{"monthly on the 31st, clamped", pointsAt(date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)), Monthly, 12, date(2024, 5, 31)},
		{"monthly month ends from February", pointsAt(date(2023, 2, 28), date(2023, 3, 31), date(2023, 4, 30)), Monthly, 12, date(2023, 5, 31)},
		{"monthly on the 30th", pointsAt(date(2024, 1, 30), date(2024, 2, 29), date(2024, 3, 30)), Monthly, 12, date(2024, 4, 30)},
		{"unsorted input is sorted", pointsAt(date(2024, 1, 3), date(2024, 1, 1), date(2024, 1, 2)), Daily, 7, date(2024, 1, 4)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newSeries(tc.points)
			require.NoError(t, err)
			assert.Equal(t, tc.freq, s.freq)
			assert.Equal(t, tc.period, s.freq.SeasonalPeriod())
			assert.Equal(t, tc.next, s.dateAfter(s.dates[len(s.dates)-1], 1).time())
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skip("no time zone database")
	}
	return loc
}

func TestSpacingErrorsNameTheDates(t *testing.T) {
	tests := []struct {
		name   string
		points []Point
		check  func(t *testing.T, err error)
	}{
		{"a gap in daily data", pointsAt(date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 5), date(2024, 1, 6)), func(t *testing.T, err error) {
			var e *IrregularSpacingError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, []time.Time{date(2024, 1, 5)}, e.Dates)
			assert.Contains(t, err.Error(), "2024-01-05")
		}},
		{"monthly with a wrong day", pointsAt(date(2024, 1, 15), date(2024, 2, 15), date(2024, 3, 16), date(2024, 4, 15)), func(t *testing.T, err error) {
			var e *IrregularSpacingError
			require.ErrorAs(t, err, &e)
			assert.Contains(t, e.Dates, date(2024, 3, 16))
		}},
		{"random dates", pointsAt(date(2024, 1, 1), date(2024, 1, 4), date(2024, 2, 9), date(2024, 2, 10)), func(t *testing.T, err error) {
			var e *IrregularSpacingError
			require.ErrorAs(t, err, &e)
			assert.NotEmpty(t, e.Dates)
		}},
		{"duplicates", pointsAt(date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 2), date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 3)), func(t *testing.T, err error) {
			var e *DuplicateDateError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, []time.Time{date(2024, 1, 2), date(2024, 1, 3)}, e.Dates)
			assert.Equal(t, 2, e.Total)
		}},
		{"same date, different times of day", []Point{{Date: time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC)}, {Date: time.Date(2024, 1, 1, 23, 0, 0, 0, time.UTC)}}, func(t *testing.T, err error) {
			var e *DuplicateDateError
			require.ErrorAs(t, err, &e)
		}},
		{"NaN and Inf", []Point{{Date: date(2024, 1, 1), Value: 1}, {Date: date(2024, 1, 2), Value: math.NaN()}, {Date: date(2024, 1, 3), Value: math.Inf(-1)}}, func(t *testing.T, err error) {
			var e *InvalidValueError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, []time.Time{date(2024, 1, 2), date(2024, 1, 3)}, e.Dates)
		}},
		{"empty", nil, func(t *testing.T, err error) {
			var e *InsufficientDataError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 2, e.Need)
		}},
		{"one point", pointsAt(date(2024, 1, 1)), func(t *testing.T, err error) {
			var e *InsufficientDataError
			require.ErrorAs(t, err, &e)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newSeries(tc.points)
			require.Error(t, err)
			tc.check(t, err)
			// Compute reports the same typed error.
			_, err2 := Compute(tc.points, Options{HorizonPeriods: 3})
			assert.Equal(t, err.Error(), err2.Error())
		})
	}
}

func TestManyOffendingDatesAreCapped(t *testing.T) {
	var pts []Point
	for i := range 40 {
		pts = append(pts, Point{Date: day0.AddDate(0, 0, 3*i*i)})
	}
	_, err := newSeries(pts)
	var e *IrregularSpacingError
	require.True(t, errors.As(err, &e))
	assert.Len(t, e.Dates, maxListedDates)
	assert.Greater(t, e.Total, maxListedDates)
}
