package services

import (
	"strconv"
	"time"
)

// Rate is how many calls a window allows.
type Rate struct {
	Limit  int64
	Period time.Duration
}

func (r Rate) String() string {
	if r.Period == time.Hour {
		return strconv.FormatInt(r.Limit, 10)
	}
	return strconv.FormatInt(r.Limit, 10) + "/" + formatPeriod(r.Period)
}

func formatPeriod(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}
