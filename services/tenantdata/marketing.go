package tenantdata

import (
	"context"
	"fmt"
	"time"
)

// The aggregates the marketing module answers from. Each is one query whose sums the database
// computes over the tenant's rows; Go only combines the few rows each returns.

// Currencies lists the currencies of tenant's daily metrics from from to to, in order.
func (s *Store) Currencies(ctx context.Context, tenant string, from, to time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT currency FROM platform_metrics
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

// PlatformPeriods sums tenant's daily metrics in currency per platform from from to to
// (inclusive), ordered by platform.
func (s *Store) PlatformPeriods(ctx context.Context, tenant, currency string, from, to time.Time) ([]PlatformPeriod, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.platform, COUNT(*), SUM(m.streams), SUM(m.listeners), SUM(m.saves),
			SUM(m.revenue_micros),
			(SELECT l.followers FROM platform_metrics l WHERE l.tenant = $1 AND l.platform = m.platform
				AND l.currency = $4 AND l.day >= $2 AND l.day <= $3 ORDER BY l.day DESC LIMIT 1)
		FROM platform_metrics m
		WHERE m.tenant = $1 AND m.day >= $2 AND m.day <= $3 AND m.currency = $4
		GROUP BY m.platform ORDER BY m.platform`, tenant, dayText(from), dayText(to), currency)
	if err != nil {
		return nil, fmt.Errorf("sum metrics per platform: %w", err)
	}
	defer rows.Close()
	var out []PlatformPeriod
	for rows.Next() {
		var p PlatformPeriod
		if err := rows.Scan(&p.Platform, &p.Days, &p.Streams, &p.Listeners, &p.Saves, &p.RevenueMicros, &p.Followers); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DayTotal is one day's figures, all platforms together.
type DayTotal struct {
	Day           string
	Streams       int64
	Listeners     int64
	Followers     int64
	RevenueMicros int64
}

// DayTotals sums tenant's daily metrics in currency per day from from to to, oldest first;
// days without rows are absent.
func (s *Store) DayTotals(ctx context.Context, tenant, currency string, from, to time.Time) ([]DayTotal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT day, SUM(streams), SUM(listeners), SUM(followers), SUM(revenue_micros)
		FROM platform_metrics WHERE tenant = $1 AND day >= $2 AND day <= $3 AND currency = $4
		GROUP BY day ORDER BY day`, tenant, dayText(from), dayText(to), currency)
	if err != nil {
		return nil, fmt.Errorf("sum metrics per day: %w", err)
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

// DaysWithData counts the days from from to to on which tenant has metrics in currency.
func (s *Store) DaysWithData(ctx context.Context, tenant, currency string, from, to time.Time) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT day) FROM platform_metrics
		WHERE tenant = $1 AND day >= $2 AND day <= $3 AND currency = $4`, tenant, dayText(from), dayText(to), currency).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count days with metrics: %w", err)
	}
	return n, nil
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
