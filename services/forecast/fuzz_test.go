package forecast

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// FuzzCompute checks that no input panics: dates and values are read from
// the fuzzer's bytes (8 bytes of day offset, 8 of float64 bits per point).
// Under plain `go test` only the seeds run.
func FuzzCompute(f *testing.F) {
	seed := func(days []int64, vals []float64) []byte {
		var b []byte
		for i := range days {
			b = binary.LittleEndian.AppendUint64(b, uint64(days[i]))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(vals[i]))
		}
		return b
	}
	f.Add(seed([]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), uint8(3))
	f.Add(seed([]int64{0, 7, 14, 21}, []float64{0, 0, 0, 0}), uint8(1))
	f.Add(seed([]int64{0, 31, 59, 90, 120}, []float64{1, -1, 1e300, -1e300, 5}), uint8(200))
	f.Add(seed([]int64{-1e6, 3, 3, 1e6}, []float64{math.NaN(), 1, 2, 3}), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, horizon uint8) {
		var pts []Point
		for len(data) >= 16 && len(pts) < 400 {
			day := int64(binary.LittleEndian.Uint64(data)) % 100000
			v := math.Float64frombits(binary.LittleEndian.Uint64(data[8:]))
			pts = append(pts, Point{Date: day0.AddDate(0, 0, int(day)), Value: v})
			data = data[16:]
		}
		_, _ = Compute(pts, Options{HorizonPeriods: int(horizon), SimulationPaths: 50})
	})
}

func TestShortSeriesStillForecasts(t *testing.T) {
	y := []float64{10, 12, 11, 13, 12, 14, 13, 15}
	pts := make([]Point, len(y))
	for i, v := range y {
		pts[i] = Point{Date: time.Date(2024, time.Month(i+1), 1, 0, 0, 0, 0, time.UTC), Value: v}
	}
	res, err := Compute(pts, Options{HorizonPeriods: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkWellFormed(t, res, 4)
	if res.Seasonality.Detected {
		t.Error("fewer than two cycles cannot show seasonality")
	}
}
