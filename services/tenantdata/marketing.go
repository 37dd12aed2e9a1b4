package tenantdata

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The aggregates the marketing module answers from. Each is one query whose sums the database
// computes over the tenant's rows; Go only combines the few rows each returns.

// Currencies lists the currencies of tenant's daily metrics from from to to, in order.
func (s *Store) Currencies(ctx context.Context, tenant string, from, to time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT currency FROM metric_days
		WHERE tenant = $1 AND day >= $2 AND day <= $3 ORDER BY currency`, tenant, dayText(from), dayText(to))
	if err != nil {
		return nil, fmt.Errorf("metric currencies: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EnsureSums brings tenant's running sums and daily totals up to date with its daily metrics,
// when an import changed these since they were last built. Of concurrent callers one rebuilds;
// the others wait for it, then find nothing to do.
func (s *Store) EnsureSums(ctx context.Context, tenant string) error {
	var stale int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM metric_sums_stale WHERE tenant = $1`, tenant).Scan(&stale); err != nil {
		return fmt.Errorf("metric sums: %w", err)
	}
	if stale == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM metric_sums_stale WHERE tenant = $1`, tenant)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return rebuildMetricSums(ctx, tx, tenant)
	})
}

// rebuildMetricSums recomputes tenant's running sums per platform and totals per day from its
// daily metrics, by window functions in the database.
func rebuildMetricSums(ctx context.Context, tx *sql.Tx, tenant string) error {
	for _, q := range []string{
		`DELETE FROM metric_sums WHERE tenant = $1`,
		`INSERT INTO metric_sums (tenant, currency, platform, day, days, streams, listeners, saves, revenue_micros, followers)
		SELECT tenant, currency, platform, day, COUNT(*) OVER w, SUM(streams) OVER w, SUM(listeners) OVER w,
			SUM(saves) OVER w, SUM(revenue_micros) OVER w, followers
		FROM platform_metrics WHERE tenant = $1
		WINDOW w AS (PARTITION BY currency, platform ORDER BY day ROWS UNBOUNDED PRECEDING)`,
		`DELETE FROM metric_days WHERE tenant = $1`,
		`INSERT INTO metric_days (tenant, currency, day, ordinal, streams, listeners, followers, saves, revenue_micros)
		SELECT tenant, currency, day, ROW_NUMBER() OVER (PARTITION BY currency ORDER BY day), SUM(streams), SUM(listeners),
			SUM(followers), SUM(saves), SUM(revenue_micros)
		FROM platform_metrics WHERE tenant = $1 GROUP BY tenant, currency, day`,
	} {
		if _, err := tx.ExecContext(ctx, q, tenant); err != nil {
			return fmt.Errorf("rebuild metric sums: %w", err)
		}
	}
	return nil
}

// PlatformPeriod is one platform's figures over a period.
type PlatformPeriod struct {
	Platform      string
	Days          int64 // days with a row of the platform
	Streams       int64
	Listeners     int64 // sum of daily listeners: divide by the period's days for a daily mean
	Saves         int64
	RevenueMicros int64
	Followers     int64 // on the platform's last day with a row in the period
}

// Period is the figures of one period in one currency: per platform, and the days with any.
type Period struct {
	Days      int64
	Platforms []PlatformPeriod
}

// running is a platform's running sums through a day.
type running struct {
	days, streams, listeners, saves, revenue, followers int64
}

// runningAt reads the running sums of platform through day (the last row on or before it).
func (s *Store) runningAt(ctx context.Context, tenant, currency, platform, day string) (running, error) {
	var r running
	err := s.db.QueryRowContext(ctx, `SELECT days, streams, listeners, saves, revenue_micros, followers FROM metric_sums
		WHERE tenant = $1 AND currency = $2 AND platform = $3 AND day <= $4 ORDER BY day DESC LIMIT 1`,
		tenant, currency, platform, day).Scan(&r.days, &r.streams, &r.listeners, &r.saves, &r.revenue, &r.followers)
	if err == sql.ErrNoRows {
		return running{}, nil
	}
	return r, err
}

// ordinalAt is how many days with metrics in currency tenant has on or before day.
func (s *Store) ordinalAt(ctx context.Context, tenant, currency, day string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT ordinal FROM metric_days WHERE tenant = $1 AND currency = $2 AND day <= $3
		ORDER BY day DESC LIMIT 1`, tenant, currency, day).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return n, err
}

// TwoPeriods sums tenant's daily metrics in currency per platform over [prevFrom, from) and
// [from, to]: each sum is the difference of the running sums at the periods' bounds.
func (s *Store) TwoPeriods(ctx context.Context, tenant, currency string, prevFrom, from, to time.Time) (previous, current Period, err error) {
	bounds := []string{dayText(prevFrom.AddDate(0, 0, -1)), dayText(from.AddDate(0, 0, -1)), dayText(to)}
	var ord [3]int64
	for i, b := range bounds {
		if ord[i], err = s.ordinalAt(ctx, tenant, currency, b); err != nil {
			return previous, current, fmt.Errorf("days with metrics: %w", err)
		}
	}
	previous.Days, current.Days = ord[1]-ord[0], ord[2]-ord[1]
	for _, platform := range Platforms {
		var at [3]running
		for i, b := range bounds {
			if at[i], err = s.runningAt(ctx, tenant, currency, platform, b); err != nil {
				return previous, current, fmt.Errorf("running sums: %w", err)
			}
		}
		for i, per := range []*Period{&previous, &current} {
			lo, hi := at[i], at[i+1]
			if hi.days == lo.days {
				continue // no row of the platform in the period
			}
			per.Platforms = append(per.Platforms, PlatformPeriod{Platform: platform, Days: hi.days - lo.days,
				Streams: hi.streams - lo.streams, Listeners: hi.listeners - lo.listeners, Saves: hi.saves - lo.saves,
				RevenueMicros: hi.revenue - lo.revenue, Followers: hi.followers})
		}
	}
	return previous, current, nil
}

// DayTotal is one day's figures, all platforms together.
type DayTotal struct {
	Day           string
	Streams       int64
	Listeners     int64
	Followers     int64
	RevenueMicros int64
}

// DayTotals reads tenant's daily totals in currency from from to to, oldest first; days without
// rows are absent.
func (s *Store) DayTotals(ctx context.Context, tenant, currency string, from, to time.Time) ([]DayTotal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT day, streams, listeners, followers, revenue_micros
		FROM metric_days WHERE tenant = $1 AND currency = $2 AND day >= $3 AND day <= $4
		ORDER BY day`, tenant, currency, dayText(from), dayText(to))
	if err != nil {
		return nil, fmt.Errorf("daily totals: %w", err)
	}
	defer rows.Close()
	var out []DayTotal
	for rows.Next() {
		var d DayTotal
		if err := rows.Scan(&d.Day, &d.Streams, &d.Listeners, &d.Followers, &d.RevenueMicros); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// CampaignPeriod is one campaign with the sums of its results over a period.
type CampaignPeriod struct {
	ID, Name, Channel, Status, Currency string
	StartDate, EndDate                  string
	Days                                int64 // days with results in the period
	Impressions, Clicks, Conversions    int64
	SpendMicros, RevenueMicros          int64
}

// CampaignPeriods sums the results from from to to of tenant's campaigns that run in that
// period or have results in it, ordered by id.
func (s *Store) CampaignPeriods(ctx context.Context, tenant string, from, to time.Time) ([]CampaignPeriod, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.name, c.channel, c.status, c.currency, c.start_day, c.end_day,
			COUNT(r.day), COALESCE(SUM(r.impressions), 0), COALESCE(SUM(r.clicks), 0),
			COALESCE(SUM(r.conversions), 0), COALESCE(SUM(r.spend_micros), 0), COALESCE(SUM(r.revenue_micros), 0)
		FROM campaigns c LEFT JOIN campaign_results r
			ON r.tenant = c.tenant AND r.campaign_id = c.id AND r.day >= $2 AND r.day <= $3
		WHERE c.tenant = $1
		GROUP BY c.id, c.name, c.channel, c.status, c.currency, c.start_day, c.end_day
		HAVING COUNT(r.day) > 0 OR (c.start_day <= $3 AND c.end_day >= $2)
		ORDER BY c.id`, tenant, dayText(from), dayText(to))
	if err != nil {
		return nil, fmt.Errorf("sum campaign results: %w", err)
	}
	defer rows.Close()
	var out []CampaignPeriod
	for rows.Next() {
		var c CampaignPeriod
		if err := rows.Scan(&c.ID, &c.Name, &c.Channel, &c.Status, &c.Currency, &c.StartDate, &c.EndDate, &c.Days,
			&c.Impressions, &c.Clicks, &c.Conversions, &c.SpendMicros, &c.RevenueMicros); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MonthPlatform is one platform's daily listeners summed over one calendar month.
type MonthPlatform struct {
	Month     string // YYYY-MM
	Platform  string
	Listeners int64
}

// MonthDays is how many days of a month have metrics.
type MonthDays struct {
	Month string
	Days  int64
}

// MonthlyListeners sums tenant's daily listeners per month and platform from from on, and
// counts each month's days with metrics, both oldest month first.
func (s *Store) MonthlyListeners(ctx context.Context, tenant string, from time.Time) ([]MonthPlatform, []MonthDays, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT substr(day, 1, 7) AS month, platform, SUM(listeners)
		FROM platform_metrics WHERE tenant = $1 AND day >= $2
		GROUP BY substr(day, 1, 7), platform ORDER BY month, platform`, tenant, dayText(from))
	if err != nil {
		return nil, nil, fmt.Errorf("sum listeners per month: %w", err)
	}
	defer rows.Close()
	var per []MonthPlatform
	for rows.Next() {
		var m MonthPlatform
		if err := rows.Scan(&m.Month, &m.Platform, &m.Listeners); err != nil {
			return nil, nil, err
		}
		per = append(per, m)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT substr(day, 1, 7) AS month, COUNT(DISTINCT day)
		FROM platform_metrics WHERE tenant = $1 AND day >= $2
		GROUP BY substr(day, 1, 7) ORDER BY month`, tenant, dayText(from))
	if err != nil {
		return nil, nil, fmt.Errorf("count days per month: %w", err)
	}
	defer rows.Close()
	var days []MonthDays
	for rows.Next() {
		var m MonthDays
		if err := rows.Scan(&m.Month, &m.Days); err != nil {
			return nil, nil, err
		}
		days = append(days, m)
	}
	return per, days, rows.Err()
}

// LastMetricDay is the last day on which tenant has metrics, or "" when it has none.
func (s *Store) LastMetricDay(ctx context.Context, tenant string) (string, error) {
	var last *string
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(day) FROM platform_metrics WHERE tenant = $1`, tenant).Scan(&last); err != nil {
		return "", fmt.Errorf("last metric day: %w", err)
	}
	if last == nil {
		return "", nil
	}
	return *last, nil
}

// CompetitorMonth is a competitor's mean monthly listeners over its figures of one month.
type CompetitorMonth struct {
	Name      string
	Month     string
	Listeners float64
}

// CompetitorMonths averages tenant's competitor figures per competitor and month from from on,
// ordered by name and month.
func (s *Store) CompetitorMonths(ctx context.Context, tenant string, from time.Time) ([]CompetitorMonth, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, substr(day, 1, 7) AS month, AVG(monthly_listeners)
		FROM competitors WHERE tenant = $1 AND day >= $2
		GROUP BY name, substr(day, 1, 7) ORDER BY name, month`, tenant, dayText(from))
	if err != nil {
		return nil, fmt.Errorf("competitor months: %w", err)
	}
	defer rows.Close()
	var out []CompetitorMonth
	for rows.Next() {
		var c CompetitorMonth
		if err := rows.Scan(&c.Name, &c.Month, &c.Listeners); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func dayText(t time.Time) string { return t.Format(time.DateOnly) }
