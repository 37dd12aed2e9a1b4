package ratelimit

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aidawg/jarvis/services"
)

// ParseRate reads "N" (N calls an hour) or "N/period", where period is a Go duration such as
// 10m or 1h, or a number of days such as 1d.
func ParseRate(s string) (services.Rate, error) {
	s = strings.TrimSpace(s)
	limitText, periodText, hasPeriod := strings.Cut(s, "/")
	limit, err := strconv.ParseInt(strings.TrimSpace(limitText), 10, 64)
	if err != nil || limit < 0 {
		return services.Rate{}, fmt.Errorf("%q: want a count of calls such as 100, or calls per period such as 20/10m", s)
	}
	period := time.Hour
	if hasPeriod {
		p := strings.TrimSpace(periodText)
		if days, ok := strings.CutSuffix(p, "d"); ok {
			n, err := strconv.Atoi(days)
			if err != nil || n <= 0 {
				return services.Rate{}, fmt.Errorf("%q: the period %q is not a number of days such as 1d", s, p)
			}
			period = time.Duration(n) * 24 * time.Hour
		} else {
			period, err = time.ParseDuration(p)
			if err != nil {
				return services.Rate{}, fmt.Errorf("%q: the period %q is not a duration such as 10m or 1h", s, p)
			}
		}
		if period < time.Second {
			return services.Rate{}, fmt.Errorf("%q: the period must be at least 1s", s)
		}
	}
	return services.Rate{Limit: limit, Period: period}, nil
}

// ParseRates reads comma-separated class=rate pairs, such as "music.generate=20,*=500". The
// class * stands for every class not named.
func ParseRates(s string) (map[string]services.Rate, error) {
	out := map[string]services.Rate{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		class, rateText, ok := strings.Cut(part, "=")
		class = strings.TrimSpace(class)
		if !ok || !validClass(class) {
			return nil, fmt.Errorf("%q: want class=rate, such as music.generate=20", strings.TrimSpace(part))
		}
		r, err := ParseRate(rateText)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", class, err)
		}
		out[class] = r
	}
	return out, nil
}

// FormatRates is the inverse of ParseRates, in class order.
func FormatRates(rates map[string]services.Rate) string {
	classes := make([]string, 0, len(rates))
	for c := range rates {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = c + "=" + rates[c].String()
	}
	return strings.Join(parts, ",")
}

func validClass(c string) bool {
	if c == "*" {
		return true
	}
	if c == "" || len(c) > 64 {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '.' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}
