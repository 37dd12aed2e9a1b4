// Package marketing is the embedded AI Dawg marketing module: an artist's streaming figures,
// campaigns and growth, computed from the tenant's imported data (services/tenantdata).
package marketing

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// Store is the tenant data the module reads and the campaigns it manages.
type Store interface {
	Dataset(ctx context.Context, tenant string) (string, error)
	LastMetricDay(ctx context.Context, tenant string) (string, error)
	EnsureSums(ctx context.Context, tenant string) error
	Currencies(ctx context.Context, tenant string, from, to time.Time) ([]string, error)
	TwoPeriods(ctx context.Context, tenant, currency string, prevFrom, from, to time.Time) (previous, current tenantdata.Period, err error)
	DayTotals(ctx context.Context, tenant, currency string, from, to time.Time) ([]tenantdata.DayTotal, error)
	CampaignPeriods(ctx context.Context, tenant string, from, to time.Time) ([]tenantdata.CampaignPeriod, error)
	MonthlyListeners(ctx context.Context, tenant string, from time.Time) ([]tenantdata.MonthPlatform, []tenantdata.MonthDays, error)
	CompetitorMonths(ctx context.Context, tenant string, from time.Time) ([]tenantdata.CompetitorMonth, error)

	CreateCampaign(ctx context.Context, tenant string, c tenantdata.Campaign, actor, reason string) (tenantdata.Campaign, error)
	Campaign(ctx context.Context, tenant, id string) (tenantdata.Campaign, error)
	CampaignHistory(ctx context.Context, tenant, id string, limit int) ([]tenantdata.CampaignChange, error)
	Campaigns(ctx context.Context, tenant, status string, after *tenantdata.CampaignPage, limit int) ([]tenantdata.Campaign, *tenantdata.CampaignPage, error)
	ChangeCampaign(ctx context.Context, tenant, id string, expected int64, action, actor, reason string,
		change func(*tenantdata.Campaign) error) (tenantdata.Campaign, error)
}

var _ Store = (*tenantdata.Store)(nil)

// Module is the embedded marketing module.
type Module struct {
	store Store
	now   func() time.Time
}

// NewModule builds the module over store.
func NewModule(store Store) *Module { return &Module{store: store, now: time.Now} }

func (m *Module) Name() string { return "marketing" }

func (m *Module) Register(reg *modules.Registrar) {
	modules.Handle(reg, modules.CmdGetMetrics, m.getMetrics)
	modules.Handle(reg, modules.CmdManageCampaigns, m.manageCampaigns)
	modules.Handle(reg, modules.CmdAnalyzeGrowth, m.analyzeGrowth)
}

// tenantOf is the caller's tenant: every figure the module reads or writes is the tenant's own.
func tenantOf(ctx context.Context) (services.Principal, *modules.Failure) {
	p, ok := services.PrincipalFrom(ctx)
	if !ok || p.Tenant == "" {
		return p, modules.InvalidParams("The call names no account, so there is no data to read. Call through Jarvis, which names the caller's account.")
	}
	return p, nil
}

// dataset says where the tenant's data came from, for meta.dataset.
func (m *Module) dataset(ctx context.Context, tenant string) (aidawg.Dataset, error) {
	d, err := m.store.Dataset(ctx, tenant)
	if err != nil {
		return "", err
	}
	switch d {
	case tenantdata.DatasetDemo:
		return aidawg.DatasetDemo, nil
	case tenantdata.DatasetMixed:
		return aidawg.DatasetMixed, nil
	}
	return aidawg.DatasetImported, nil
}

// noMetrics is the failure for a tenant without daily platform metrics.
func noMetrics() *modules.Failure {
	return modules.InvalidParams("No daily platform metrics are imported for this account, so there are no figures to report. " +
		"Import them (jarvis data import metrics FILE, or POST /admin/data/metrics with a CSV or JSON Lines body; columns date, platform, streams, listeners, followers, saves, revenue, currency) and ask again.")
}

func money(micros int64) float64 { return round(float64(micros)/1e6, 2) }

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// ratio is a/b to four places, or nil when b is 0.
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	r := round(a/b, 4)
	return &r
}

func parseDay(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) }

func utcDay(t time.Time) time.Time {
	y, mo, d := t.UTC().Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
