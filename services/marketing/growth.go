package marketing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services/forecast"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// Growth thresholds, in percent per month; the README states them.
const (
	flatBelowPct   = 1.0 // |growth| under this is flat
	decliningAtPct = -1.0
	// A last quarter whose growth differs from the whole history's by this many points makes
	// the trend accelerating or slowing.
	shiftPoints = 1.5
	// minMonths is the shortest history growth is judged on.
	minMonths = 4
	// minLastMonthDays is how many days the latest month needs to count: fewer give a mean that
	// the weekly cycle alone can move by several percent.
	minLastMonthDays = 7
)

var trendRule = fmt.Sprintf("accelerating when the last three months grow %.1f points a month faster than the whole history and are growing; "+
	"declining when the history shrinks by %.0f %%/month or more; slowing when the last three months grow %.1f points slower; "+
	"flat within %.0f %%/month; steady otherwise. Rates are Theil-Sen slopes of log monthly listeners.",
	shiftPoints, -decliningAtPct, shiftPoints, flatBelowPct)

// month is one month of the history.
type month struct {
	name      string // YYYY-MM
	days      int64
	listeners float64            // average daily listeners, all platforms
	platforms map[string]float64 // each platform's part of listeners
}

func (m *Module) analyzeGrowth(ctx context.Context, p aidawg.AnalyzeGrowthParams) (aidawg.AnalyzeGrowthResult, error) {
	var out aidawg.AnalyzeGrowthResult
	principal, f := tenantOf(ctx)
	if f != nil {
		return out, f
	}
	tenant := principal.Tenant
	want, horizon := 12, 3
	if p.Months != nil {
		want = *p.Months
	}
	if p.ForecastMonths != nil {
		horizon = *p.ForecastMonths
	}
	last, err := m.store.LastMetricDay(ctx, tenant)
	if err != nil {
		return out, err
	}
	if last == "" {
		return out, noMetrics()
	}
	lastDay, err := parseDay(last)
	if err != nil {
		return out, err
	}
	// One month more than asked, in case the latest is too short to count.
	from := time.Date(lastDay.Year(), lastDay.Month()-time.Month(want), 1, 0, 0, 0, 0, time.UTC)
	perPlatform, perMonth, err := m.store.MonthlyListeners(ctx, tenant, from)
	if err != nil {
		return out, err
	}
	history := monthsOf(perPlatform, perMonth)
	var notes []string
	if n := len(history); n > 0 && history[n-1].days < minLastMonthDays {
		notes = append(notes, fmt.Sprintf("%s is left out: it has figures for %s only, too few for a monthly mean.",
			history[n-1].name, plural(history[n-1].days, "day", "days")))
		history = history[:n-1]
	}
	if len(history) > want {
		history = history[len(history)-want:]
	}
	if len(history) < minMonths {
		return out, modules.InvalidParams(fmt.Sprintf("Growth is judged on at least %d months of daily metrics; this account has %d usable month(s) up to %s. Import more history (jarvis data import metrics FILE, or POST /admin/data/metrics) and ask again.",
			minMonths, len(history), last))
	}

	g := aidawg.GrowthAnalysis{TrendRule: trendRule, History: make([]aidawg.MonthlyListeners, len(history))}
	logs := make([]float64, len(history))
	for i, mo := range history {
		g.History[i] = aidawg.MonthlyListeners{Month: mo.name, Listeners: round(mo.listeners, 1), Days: int(mo.days)}
		logs[i] = math.Log(math.Max(mo.listeners, 1))
	}
	latest := history[len(history)-1]
	g.MonthlyListeners = round(latest.listeners, 1)
	g.GrowthRate = round(percentPerMonth(logs), 2)
	g.RecentGrowthRate = round(percentPerMonth(logs[len(logs)-3:]), 2)
	g.Trend = classify(g.GrowthRate, g.RecentGrowthRate)

	windowFrom, _ := time.Parse("2006-01", history[0].name)
	lastMonth, _ := time.Parse("2006-01", latest.name)
	windowTo := lastMonth.AddDate(0, 1, -1)
	if drivers, err := m.drivers(ctx, tenant, history, windowFrom, windowTo); err != nil {
		return out, err
	} else {
		g.Drivers = drivers
	}

	includeCompetitors := p.IncludeCompetitors == nil || *p.IncludeCompetitors
	if includeCompetitors {
		g.Competitors, g.CompetitorsNote, err = m.competitors(ctx, tenant, windowFrom)
		if err != nil {
			return out, err
		}
	} else {
		g.CompetitorsNote = "Competitors were not asked for (includeCompetitors false)."
	}
	g.Forecast, g.ForecastMethod = listenerForecast(history, horizon)
	g.Recommendations = recommend(g)
	g.Notes = notes
	dataset, err := m.dataset(ctx, tenant)
	if err != nil {
		return out, err
	}
	return aidawg.AnalyzeGrowthResult{Growth: g, Dataset: dataset}, nil
}

// monthsOf turns the per-month sums into average daily listeners; a platform's part is its sum
// over the month's days with figures, so that the parts add up to the whole.
func monthsOf(perPlatform []tenantdata.MonthPlatform, perMonth []tenantdata.MonthDays) []month {
	days := map[string]int64{}
	for _, d := range perMonth {
		days[d.Month] = d.Days
	}
	var out []month
	for _, r := range perPlatform {
		if len(out) == 0 || out[len(out)-1].name != r.Month {
			out = append(out, month{name: r.Month, days: days[r.Month], platforms: map[string]float64{}})
		}
		mo := &out[len(out)-1]
		v := float64(r.Listeners) / float64(mo.days)
		mo.platforms[r.Platform] = v
		mo.listeners += v
	}
	return out
}

// theilSen is the median of the slopes between every pair of points (Sen 1968), with x the
// index: robust to a release spike or a bad month that would tilt least squares.
func theilSen(y []float64) float64 {
	var slopes []float64
	for i := range y {
		for j := i + 1; j < len(y); j++ {
			slopes = append(slopes, (y[j]-y[i])/float64(j-i))
		}
	}
	if len(slopes) == 0 {
		return 0
	}
	sort.Float64s(slopes)
	n := len(slopes)
	if n%2 == 1 {
		return slopes[n/2]
	}
	return (slopes[n/2-1] + slopes[n/2]) / 2
}

// percentPerMonth is the growth per month that the Theil-Sen slope of log values means.
func percentPerMonth(logs []float64) float64 { return (math.Exp(theilSen(logs)) - 1) * 100 }

func classify(growth, recent float64) aidawg.GrowthAnalysisTrend {
	switch {
	case recent-growth >= shiftPoints && recent > 0:
		return aidawg.GrowthAnalysisTrendAccelerating
	case growth <= decliningAtPct:
		return aidawg.GrowthAnalysisTrendDeclining
	case growth-recent >= shiftPoints:
		return aidawg.GrowthAnalysisTrendSlowing
	case math.Abs(growth) < flatBelowPct:
		return aidawg.GrowthAnalysisTrendFlat
	}
	return aidawg.GrowthAnalysisTrendSteady
}

// drivers ranks the platforms by their part of the change in average daily listeners from the
// history's first month to its last, then the campaigns by their conversions in the history.
func (m *Module) drivers(ctx context.Context, tenant string, history []month, from, to time.Time) ([]aidawg.GrowthDriver, error) {
	first, last := history[0], history[len(history)-1]
	total := last.listeners - first.listeners
	names := map[string]bool{}
	for k := range first.platforms {
		names[k] = true
	}
	for k := range last.platforms {
		names[k] = true
	}
	var platforms []aidawg.GrowthDriver
	metric := fmt.Sprintf("change in average daily listeners from %s to %s", first.name, last.name)
	for name := range names {
		delta := last.platforms[name] - first.platforms[name]
		platforms = append(platforms, aidawg.GrowthDriver{Kind: aidawg.GrowthDriverKindPlatform, Name: name, Metric: metric,
			Value: round(delta, 1), Share: share(delta, total)})
	}
	// In the direction of the change: the platforms that moved it most come first.
	sign := 1.0
	if total < 0 {
		sign = -1
	}
	slices.SortFunc(platforms, func(a, b aidawg.GrowthDriver) int {
		if c := cmp.Compare(sign*b.Value, sign*a.Value); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	campaigns, err := m.store.CampaignPeriods(ctx, tenant, from, to)
	if err != nil {
		return nil, err
	}
	var conversions int64
	for _, c := range campaigns {
		conversions += c.Conversions
	}
	var byCampaign []aidawg.GrowthDriver
	for _, c := range campaigns {
		if c.Conversions == 0 {
			continue
		}
		byCampaign = append(byCampaign, aidawg.GrowthDriver{Kind: aidawg.GrowthDriverKindCampaign, Name: c.Name,
			Metric: fmt.Sprintf("conversions from %s to %s", from.Format(time.DateOnly), to.Format(time.DateOnly)),
			Value:  float64(c.Conversions), Share: share(float64(c.Conversions), float64(conversions))})
	}
	slices.SortFunc(byCampaign, func(a, b aidawg.GrowthDriver) int {
		if c := cmp.Compare(b.Value, a.Value); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return append(platforms, byCampaign...), nil
}

func share(v, total float64) *float64 {
	if total == 0 {
		return nil
	}
	s := round(v/total, 4)
	return &s
}

// competitors are the imported competitors' latest monthly listeners and growth.
func (m *Module) competitors(ctx context.Context, tenant string, from time.Time) ([]aidawg.Competitor, string, error) {
	rows, err := m.store.CompetitorMonths(ctx, tenant, from)
	if err != nil {
		return nil, "", err
	}
	out := []aidawg.Competitor{}
	if len(rows) == 0 {
		return out, "No competitor figures are imported for this period, so none are compared. Import them (jarvis data import competitors FILE, or POST /admin/data/competitors; columns name, date, monthly_listeners) to compare.", nil
	}
	for i := 0; i < len(rows); {
		j := i
		var logs []float64
		for j < len(rows) && rows[j].Name == rows[i].Name {
			logs = append(logs, math.Log(math.Max(rows[j].Listeners, 1)))
			j++
		}
		latest := rows[j-1]
		c := aidawg.Competitor{Name: latest.Name, Month: latest.Month, MonthlyListeners: int(math.Round(latest.Listeners))}
		if len(logs) >= 3 {
			g := round(percentPerMonth(logs), 2)
			c.GrowthRate = &g
		}
		out = append(out, c)
		i = j
	}
	return out, fmt.Sprintf("%s from the imported competitor figures; growth by the same Theil-Sen rate as the artist's.", plural(int64(len(out)), "competitor", "competitors")), nil
}

// listenerForecast forecasts the monthly listeners with the automation module's forecaster
// (ETS by AICc, Theta and seasonal naive by backtest).
func listenerForecast(history []month, horizon int) ([]aidawg.ListenerForecast, string) {
	points := make([]forecast.Point, len(history))
	for i, mo := range history {
		d, _ := time.Parse("2006-01", mo.name)
		points[i] = forecast.Point{Date: d, Value: mo.listeners}
	}
	res, err := forecast.Compute(points, forecast.Options{HorizonPeriods: horizon})
	if err != nil {
		var short *forecast.InsufficientDataError
		if errors.As(err, &short) {
			return []aidawg.ListenerForecast{}, fmt.Sprintf("No forecast: %d months are too few (%s).", short.Have, short.Reason)
		}
		return []aidawg.ListenerForecast{}, "No forecast: " + err.Error()
	}
	out := make([]aidawg.ListenerForecast, len(res.Points))
	floor := func(v float64) float64 { return round(math.Max(v, 0), 1) }
	for i, pt := range res.Points {
		out[i] = aidawg.ListenerForecast{Month: pt.Date.Format("2006-01"), Listeners: floor(pt.Value),
			Low: floor(pt.Lower80), High: floor(pt.Upper80), Low95: floor(pt.Lower95), High95: floor(pt.Upper95)}
	}
	return out, fmt.Sprintf("%s over %d months of history, %s; intervals: %s", res.Model, len(history), res.Selection, res.IntervalMethod)
}

// recommend writes what the figures suggest, each citing its figure.
func recommend(g aidawg.GrowthAnalysis) []string {
	var out []string
	var platforms, campaigns []aidawg.GrowthDriver
	for _, d := range g.Drivers {
		if d.Kind == aidawg.GrowthDriverKindPlatform {
			platforms = append(platforms, d)
		} else {
			campaigns = append(campaigns, d)
		}
	}
	pct := func(s *float64) string {
		if s == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.0f %%", *s*100)
	}
	if len(platforms) > 0 && platforms[0].Value > 0 {
		top := platforms[0]
		out = append(out, fmt.Sprintf("%s added %.0f average daily listeners (%s of the change): put the next release's promotion there first.",
			top.Name, top.Value, pct(top.Share)))
	}
	for _, d := range platforms {
		if d.Value < 0 {
			out = append(out, fmt.Sprintf("%s lost %.0f average daily listeners over the period: look at what changed there (playlists, uploads, ads).", d.Name, -d.Value))
			break
		}
	}
	if len(campaigns) > 0 {
		c := campaigns[0]
		out = append(out, fmt.Sprintf("%s brought %.0f conversions (%s of all campaigns'): reuse its audience and channel.", c.Name, c.Value, pct(c.Share)))
	}
	switch g.Trend {
	case aidawg.GrowthAnalysisTrendSlowing, aidawg.GrowthAnalysisTrendDeclining:
		out = append(out, fmt.Sprintf("Growth over the last three months is %.1f %%/month against %.1f %% over the whole history: plan a release or campaign to restart it.",
			g.RecentGrowthRate, g.GrowthRate))
	case aidawg.GrowthAnalysisTrendAccelerating:
		out = append(out, fmt.Sprintf("Growth picked up to %.1f %%/month over the last three months (from %.1f %%): keep the current cadence.",
			g.RecentGrowthRate, g.GrowthRate))
	}
	for _, c := range g.Competitors {
		if c.GrowthRate != nil && *c.GrowthRate > g.GrowthRate+shiftPoints {
			out = append(out, fmt.Sprintf("%s grows %.1f %%/month against your %.1f %%: look at its releases and playlists.", c.Name, *c.GrowthRate, g.GrowthRate))
			break
		}
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("Listeners move %.1f %%/month with no platform or campaign standing out: test one new channel with a small budget.", g.GrowthRate))
	}
	return out
}
