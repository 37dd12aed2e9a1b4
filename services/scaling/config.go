package scaling

import (
	"fmt"
	"strconv"
	"strings"
)

// parsePairs reads "pool=value,pool=value", each pool named at most once.
func parsePairs(raw string, value func(pool, v string) error) error {
	seen := map[string]bool{}
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, v, ok := strings.Cut(part, "=")
		name, v = strings.TrimSpace(name), strings.TrimSpace(v)
		switch {
		case !ok:
			return fmt.Errorf("%q: want pool=value", part)
		case !validPool(name):
			return fmt.Errorf("%q: the pools are %s", name, strings.Join(Pools, ", "))
		case seen[name]:
			return fmt.Errorf("%s is named twice", name)
		}
		seen[name] = true
		if err := value(name, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// ParseCounts reads starting limits, such as "workers=8,api=256".
func ParseCounts(raw string) (map[string]int, error) {
	out := map[string]int{}
	return out, parsePairs(raw, func(pool, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q: want a whole number of at least 1", v)
		}
		out[pool] = n
		return nil
	})
}

// ParseBounds reads bounds, such as "workers=1-32,api=16-2048".
func ParseBounds(raw string) (map[string]Bounds, error) {
	out := map[string]Bounds{}
	return out, parsePairs(raw, func(pool, v string) error {
		lo, hi, ok := strings.Cut(v, "-")
		a, errA := strconv.Atoi(lo)
		b, errB := strconv.Atoi(hi)
		if !ok || errA != nil || errB != nil || a < 1 || b < a {
			return fmt.Errorf("%q: want min-max, whole numbers with 1 <= min <= max", v)
		}
		out[pool] = Bounds{Min: a, Max: b}
		return nil
	})
}

// ParseCosts reads US dollars per slot and hour, such as "music-generation=0.5".
func ParseCosts(raw string) (map[string]float64, error) {
	out := map[string]float64{}
	return out, parsePairs(raw, func(pool, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return fmt.Errorf("%q: want a number of at least 0", v)
		}
		out[pool] = f
		return nil
	})
}
