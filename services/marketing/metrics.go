package marketing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// rangeDays is how many days each named range covers, ending today (UTC).
var rangeDays = map[aidawg.TimeRange]int{
	aidawg.TimeRangeToday: 1, aidawg.TimeRangeWeek: 7, aidawg.TimeRangeMonth: 30, aidawg.TimeRangeQuarter: 90, aidawg.TimeRangeYear: 365,
}

// maxCustomDays bounds a custom range: three years of daily figures.
const maxCustomDays = 3 * 366

// period resolves the params' range: startDate and endDate, when given, set it whatever
// timeRange says.
func (m *Module) period(p aidawg.GetMetricsParams) (aidawg.TimeRange, time.Time, time.Time, *modules.Failure) {
	switch {
	case p.StartDate != nil && p.EndDate != nil:
		from, to := p.StartDate.Time, p.EndDate.Time
		if to.Before(from) {
			return "", from, to, modules.InvalidParams(fmt.Sprintf("endDate %s is before startDate %s. Give the first day as startDate and the last as endDate.",
				to.Format(time.DateOnly), from.Format(time.DateOnly)), services.FieldError{Field: "/endDate", Message: "is before startDate"})
		}
		if days := int(to.Sub(from).Hours()/24) + 1; days > maxCustomDays {
			return "", from, to, modules.InvalidParams(fmt.Sprintf("The range covers %d days; at most %d can be read at once. Ask for a shorter range.", days, maxCustomDays),
				services.FieldError{Field: "/endDate", Message: fmt.Sprintf("is more than %d days after startDate", maxCustomDays)})
		}
		return aidawg.TimeRangeCustom, from, to, nil
	case p.StartDate != nil || p.EndDate != nil:
		missing := "/endDate"
		if p.StartDate == nil {
			missing = "/startDate"
		}
		return "", time.Time{}, time.Time{}, modules.InvalidParams("A custom range needs both startDate and endDate.",
			services.FieldError{Field: missing, Message: "is required with " + map[string]string{"/endDate": "startDate", "/startDate": "endDate"}[missing]})
	}
	tr := aidawg.TimeRangeMonth
	if p.TimeRange != nil {
		tr = *p.TimeRange
	}
	if tr == aidawg.TimeRangeCustom {
		return "", time.Time{}, time.Time{}, modules.InvalidParams("timeRange custom needs startDate and endDate.",
			services.FieldError{Field: "/startDate", Message: "is required with timeRange custom"})
	}
	to := utcDay(m.now())
	return tr, to.AddDate(0, 0, 1-rangeDays[tr]), to, nil
}

// periodFigures are the figures of one period, in one currency.
type periodFigures struct {
	days      int64
	platforms []tenantdata.PlatformPeriod
	campaigns []tenantdata.CampaignPeriod
	streams   int64
	listeners int64 // summed over days and platforms
	followers int64
	saves     int64
	revenue   int64
	// Of the campaigns in the answer's currency.
	impressions, clicks, conversions, spend, attributed int64
}

// figures sums one period's platforms, and its campaigns (only those asked for, when some are).
func figures(per tenantdata.Period, campaigns []tenantdata.CampaignPeriod, currency string, only []string) periodFigures {
	f := periodFigures{days: per.Days, platforms: per.Platforms}
	for _, p := range per.Platforms {
		f.streams += p.Streams
		f.listeners += p.Listeners
		f.followers += p.Followers
		f.saves += p.Saves
		f.revenue += p.RevenueMicros
	}
	for _, c := range campaigns {
		if len(only) > 0 && !slices.Contains(only, c.ID) {
			continue
		}
		f.campaigns = append(f.campaigns, c)
		if c.Currency != currency {
			continue
		}
		f.impressions += c.Impressions
		f.clicks += c.Clicks
		f.conversions += c.Conversions
		f.spend += c.SpendMicros
		f.attributed += c.RevenueMicros
	}
	return f
}

func (f periodFigures) averageListeners() float64 {
	if f.days == 0 {
		return 0
	}
	return round(float64(f.listeners)/float64(f.days), 2)
}

func (m *Module) getMetrics(ctx context.Context, p aidawg.GetMetricsParams) (aidawg.GetMetricsResult, error) {
	var out aidawg.GetMetricsResult
	principal, f := tenantOf(ctx)
	if f != nil {
		return out, f
	}
	tenant := principal.Tenant
	tr, from, to, f := m.period(p)
	if f != nil {
		return out, f
	}
	days := int(to.Sub(from).Hours()/24) + 1
	prevTo := from.AddDate(0, 0, -1)
	prevFrom := prevTo.AddDate(0, 0, 1-days)

	if err := m.store.EnsureSums(ctx, tenant); err != nil {
		return out, err
	}
	currencies, err := m.store.Currencies(ctx, tenant, from, to)
	if err != nil {
		return out, err
	}
	if len(currencies) == 0 {
		last, err := m.store.LastMetricDay(ctx, tenant)
		if err != nil {
			return out, err
		}
		if last == "" {
			return out, noMetrics()
		}
		return out, modules.InvalidParams(fmt.Sprintf("This account has no metrics from %s to %s; its figures end on %s. Ask for a range up to %s (timeRange custom with startDate and endDate), or import the missing days.",
			from.Format(time.DateOnly), to.Format(time.DateOnly), last, last))
	}
	currency := currencies[0]
	switch {
	case p.Currency != nil && slices.Contains(currencies, *p.Currency):
		currency = *p.Currency
	case p.Currency != nil:
		return out, modules.InvalidParams(fmt.Sprintf("There is no revenue in %s in this range; it holds %s.", *p.Currency, strings.Join(currencies, ", ")),
			services.FieldError{Field: "/currency", Message: "is not a currency of the range's figures"})
	case len(currencies) > 1:
		return out, modules.InvalidParams(fmt.Sprintf("The range holds revenue in %s, which cannot be added together. Ask again with currency set to one of them.", strings.Join(currencies, " and ")),
			services.FieldError{Field: "/currency", Message: "is required when the range holds more than one currency"})
	}

	prevPeriod, curPeriod, err := m.store.TwoPeriods(ctx, tenant, currency, prevFrom, from, to)
	if err != nil {
		return out, err
	}
	curCampaigns, err := m.store.CampaignPeriods(ctx, tenant, from, to)
	if err != nil {
		return out, err
	}
	prevCampaigns, err := m.store.CampaignPeriods(ctx, tenant, prevFrom, prevTo)
	if err != nil {
		return out, err
	}
	cur := figures(curPeriod, curCampaigns, currency, p.Campaigns)
	prev := figures(prevPeriod, prevCampaigns, currency, p.Campaigns)
	series, err := m.store.DayTotals(ctx, tenant, currency, from, to)
	if err != nil {
		return out, err
	}
	dataset, err := m.dataset(ctx, tenant)
	if err != nil {
		return out, err
	}

	mm := aidawg.MarketingMetrics{
		TimeRange: tr, StartDate: openapi_types.Date{Time: from}, EndDate: openapi_types.Date{Time: to},
		Days: days, DaysWithData: int(cur.days), Currency: currency,
		Totals: aidawg.MetricTotals{
			Streams: int(cur.streams), AverageDailyListeners: cur.averageListeners(), Followers: int(cur.followers),
			Saves: int(cur.saves), Revenue: money(cur.revenue),
			Impressions: int(cur.impressions), Clicks: int(cur.clicks), Conversions: int(cur.conversions), Spend: money(cur.spend),
			Ctr: ratio(float64(cur.clicks), float64(cur.impressions)), ConversionRate: ratio(float64(cur.conversions), float64(cur.clicks)),
			Cpa: ratio(float64(cur.spend)/1e6, float64(cur.conversions)), Roas: ratio(float64(cur.attributed), float64(cur.spend)),
		},
		ByPlatform: make([]aidawg.PlatformMetrics, 0, len(cur.platforms)),
		Campaigns:  make([]aidawg.CampaignMetrics, 0, len(cur.campaigns)),
		Series:     make([]aidawg.MetricPoint, len(series)),
		Notes:      []string{},
	}
	mm.PreviousPeriod.StartDate, mm.PreviousPeriod.EndDate = openapi_types.Date{Time: prevFrom}, openapi_types.Date{Time: prevTo}
	mm.PreviousPeriod.DaysWithData = int(prev.days)
	for _, pl := range cur.platforms {
		share := 0.0
		if cur.streams > 0 {
			share = round(float64(pl.Streams)/float64(cur.streams), 4)
		}
		avg := 0.0
		if cur.days > 0 {
			avg = round(float64(pl.Listeners)/float64(cur.days), 2)
		}
		mm.ByPlatform = append(mm.ByPlatform, aidawg.PlatformMetrics{Platform: pl.Platform, Streams: int(pl.Streams),
			AverageDailyListeners: avg, Followers: int(pl.Followers), Saves: int(pl.Saves), Revenue: money(pl.RevenueMicros), Share: share})
	}
	other := 0
	for _, c := range cur.campaigns {
		if c.Currency != currency {
			other++
		}
		spend := float64(c.SpendMicros) / 1e6
		mm.Campaigns = append(mm.Campaigns, aidawg.CampaignMetrics{CampaignId: c.ID, Name: c.Name, Channel: c.Channel,
			Status: aidawg.CampaignStatus(c.Status), Impressions: int(c.Impressions), Clicks: int(c.Clicks),
			Conversions: int(c.Conversions), Spend: money(c.SpendMicros), Revenue: money(c.RevenueMicros),
			Ctr: ratio(float64(c.Clicks), float64(c.Impressions)), ConversionRate: ratio(float64(c.Conversions), float64(c.Clicks)),
			Cpa: ratio(spend, float64(c.Conversions)), Roas: ratio(float64(c.RevenueMicros), float64(c.SpendMicros)),
			DaysWithResults: int(c.Days)})
	}
	for i, d := range series {
		date, _ := parseDay(d.Day)
		mm.Series[i] = aidawg.MetricPoint{Date: openapi_types.Date{Time: date}, Streams: int(d.Streams), Listeners: int(d.Listeners),
			Followers: int(d.Followers), Revenue: money(d.RevenueMicros)}
	}
	mm.Change = aidawg.MetricChanges{
		Streams:               change(float64(cur.streams), float64(prev.streams)),
		AverageDailyListeners: change(cur.averageListeners(), prev.averageListeners()),
		Followers:             change(float64(cur.followers), float64(prev.followers)),
		Revenue:               change(money(cur.revenue), money(prev.revenue)),
		Conversions:           change(float64(cur.conversions), float64(prev.conversions)),
		Spend:                 change(money(cur.spend), money(prev.spend)),
	}

	if missing := int64(days) - cur.days; missing > 0 {
		mm.Notes = append(mm.Notes, fmt.Sprintf("%s of the %d in the range have no figures; sums cover the other %d, and averages are over them.",
			plural(missing, "day", "days"), days, cur.days))
	}
	if prev.days == 0 {
		mm.Notes = append(mm.Notes, fmt.Sprintf("There are no figures for the previous period (%s to %s), so the changes compare against 0 and have no percent.",
			prevFrom.Format(time.DateOnly), prevTo.Format(time.DateOnly)))
	}
	if other > 0 {
		mm.Notes = append(mm.Notes, fmt.Sprintf("%s in another currency than %s are listed but left out of the totals.", plural(int64(other), "campaign", "campaigns"), currency))
	}
	if len(mm.Campaigns) == 0 {
		mm.Notes = append(mm.Notes, "No campaign runs in the range or has results in it; import campaigns and campaign-results to see their figures.")
	}
	if len(p.Campaigns) > 0 {
		for _, id := range p.Campaigns {
			if !slices.ContainsFunc(cur.campaigns, func(c tenantdata.CampaignPeriod) bool { return c.ID == id }) {
				mm.Notes = append(mm.Notes, fmt.Sprintf("Campaign %s does not run in the range, has no results in it, or is not this account's.", id))
			}
		}
	}
	return aidawg.GetMetricsResult{Metrics: mm, Dataset: dataset}, nil
}

// change compares a figure with the previous period's.
func change(current, previous float64) aidawg.MetricChange {
	c := aidawg.MetricChange{Current: current, Previous: previous, Delta: round(current-previous, 2)}
	if previous != 0 {
		pct := round((current-previous)/previous*100, 2)
		c.Percent = &pct
	}
	return c
}
