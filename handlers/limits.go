package handlers

import (
	"context"
	"sort"
	"time"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/ratelimit"
)

// LimitReporter tells a caller's limits.
type LimitReporter interface {
	Rate(p services.Principal, class string) services.Rate
	Status(ctx context.Context, p services.Principal, classes []string) ([]ratelimit.Decision, error)
}

// callerLimits lists the limit of every class of operation the caller may call, and of the
// invalid budget its refused calls spend, with what is left of each; without remaining figures
// when the rate-limit store cannot tell.
func (s *Server) callerLimits(ctx context.Context) []jarvis.RateLimitInfo {
	out := []jarvis.RateLimitInfo{}
	p, ok := services.PrincipalFrom(ctx)
	if !ok || s.opts.Limits == nil {
		return out
	}
	seen := map[string]bool{ratelimit.InvalidClass: true}
	classes := []string{ratelimit.InvalidClass}
	for _, o := range s.spec.Operations {
		if scope := o.Scope(); scope != "" && !p.Has(scope) {
			continue
		}
		if c := o.RateClass(); !seen[c] {
			seen[c] = true
			classes = append(classes, c)
		}
	}
	sort.Strings(classes)
	status, err := s.opts.Limits.Status(ctx, p, classes)
	if err != nil {
		for _, c := range classes {
			r := s.opts.Limits.Rate(p, c)
			out = append(out, jarvis.RateLimitInfo{Class: c, Limit: int(r.Limit), WindowSeconds: seconds(r.Period)})
		}
		return out
	}
	for _, d := range status {
		remaining := int(d.Remaining)
		out = append(out, jarvis.RateLimitInfo{Class: d.Class, Limit: int(d.Rate.Limit), WindowSeconds: seconds(d.Rate.Period), Remaining: &remaining})
	}
	return out
}

func seconds(d time.Duration) int { return max(int(d/time.Second), 1) }
