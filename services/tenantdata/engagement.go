package tenantdata

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/aidawg/jarvis/services/engagement/churn"
)

// The queries the engagement module answers from: feedback to score, each listener's activity
// summed by the database over the windows of the churn features, and the campaigns it stores.

// Feedback is one stored feedback text.
type Feedback struct {
	ID     string
	Source string
	Body   string
	At     time.Time
}

// FeedbackPage is the feedback of a range, oldest first, with the number of texts in it.
// When the range holds more than the limit, the newest are read.
type FeedbackPage struct {
	Texts []Feedback
	Total int64 // texts in the range; more than len(Texts) when the limit cut them
	// BySource counts the texts in the range per source, by the database.
	BySource map[string]int64
}

// FeedbackIn reads tenant's feedback from from (inclusive) to to (exclusive), of source or of
// every source when source is "": the newest limit texts, oldest first.
func (s *Store) FeedbackIn(ctx context.Context, tenant, source string, from, to time.Time, limit int) (FeedbackPage, error) {
	page := FeedbackPage{BySource: map[string]int64{}}
	rows, err := s.db.QueryContext(ctx, `SELECT source, COUNT(*) FROM feedback
		WHERE tenant = $1 AND at >= $2 AND at < $3 AND ($4 = '' OR source = $5) GROUP BY source ORDER BY source`,
		tenant, from.UnixMilli(), to.UnixMilli(), source, source)
	if err != nil {
		return page, fmt.Errorf("count feedback: %w", err)
	}
	for rows.Next() {
		var src string
		var n int64
		if err := rows.Scan(&src, &n); err != nil {
			rows.Close()
			return page, err
		}
		page.BySource[src] = n
		page.Total += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return page, err
	}
	if page.Total == 0 {
		return page, nil
	}
	rows, err = s.db.QueryContext(ctx, `SELECT id, source, body, at FROM feedback
		WHERE tenant = $1 AND at >= $2 AND at < $3 AND ($4 = '' OR source = $5) ORDER BY at DESC, id DESC LIMIT $6`,
		tenant, from.UnixMilli(), to.UnixMilli(), source, source, limit)
	if err != nil {
		return page, fmt.Errorf("read feedback: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f Feedback
		var at int64
		if err := rows.Scan(&f.ID, &f.Source, &f.Body, &at); err != nil {
			return page, err
		}
		f.At = time.UnixMilli(at).UTC()
		page.Texts = append(page.Texts, f)
	}
	slices.Reverse(page.Texts)
	return page, rows.Err()
}

// ListenerStats describes a tenant's listener data.
type ListenerStats struct {
	Listeners int64
	// Labelled counts listeners with a churned_at date: when any has one, the data carries
	// churn labels and a listener without one stayed.
	Labelled     int64
	ActivityRows int64
	// LastActivity is the latest day of activity, when there is any.
	LastActivity *time.Time
}

// ListenerStatsOf counts tenant's listeners, churn labels and activity.
func (s *Store) ListenerStatsOf(ctx context.Context, tenant string) (ListenerStats, error) {
	var st ListenerStats
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(churned_at) FROM listeners WHERE tenant = $1`, tenant).
		Scan(&st.Listeners, &st.Labelled); err != nil {
		return st, fmt.Errorf("count listeners: %w", err)
	}
	var last sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(day) FROM listener_activity WHERE tenant = $1`, tenant).
		Scan(&st.ActivityRows, &last); err != nil {
		return st, fmt.Errorf("count listener activity: %w", err)
	}
	if last.Valid {
		d, err := time.Parse(time.DateOnly, last.String)
		if err != nil {
			return st, fmt.Errorf("stored activity day %q: %w", last.String, err)
		}
		st.LastActivity = &d
	}
	return st, nil
}

// ListenerWindows is one listener with its activity before a cut date, summed by the
// database over the windows of the churn features.
type ListenerWindows struct {
	ID        string
	Plan      string
	Country   string // "" when not given
	AgeBand   string // "" when not given
	FirstSeen time.Time
	ChurnedAt *time.Time
	Windows   churn.Windows
}

// ListenerWindowsAt sums each of tenant's listeners' active days (a day with any sessions,
// minutes or tracks) before cut's date over the churn feature windows, in one aggregate query;
// listeners without activity are included with empty windows. Ordered by listener id.
func (s *Store) ListenerWindowsAt(ctx context.Context, tenant string, cut time.Time) ([]ListenerWindows, error) {
	cut = time.Date(cut.Year(), cut.Month(), cut.Day(), 0, 0, 0, 0, time.UTC)
	day := func(daysBefore int) string { return cut.AddDate(0, 0, -daysBefore).Format(time.DateOnly) }
	// Days are YYYY-MM-DD text, so windows are ranges of text that compare as dates do on
	// both databases; week w (0 oldest) covers the days from 7(8-w) to 7(7-w)+1 before the cut.
	weeks, sums := "", ""
	args := []any{tenant, day(0), day(28), day(90)}
	for w := range churn.TrendWeeks {
		lo, hi := len(args)+1, len(args)+2
		weeks += fmt.Sprintf(",\n\t\t\tSUM(CASE WHEN day >= $%d AND day < $%d THEN minutes END) AS w%d", lo, hi, w)
		sums += fmt.Sprintf(", COALESCE(a.w%d, 0)", w)
		args = append(args, day(7*(churn.TrendWeeks-w)), day(7*(churn.TrendWeeks-1-w)))
	}
	// The activity is summed per listener first, in the order of its primary key, and only then
	// joined to the listeners; only the last 90 days are summed, and the last active day is
	// looked up apart, so that a long history costs one comparison a day.
	rows, err := s.db.QueryContext(ctx, `SELECT l.id, l.plan, COALESCE(l.country, ''), COALESCE(l.age_band, ''), l.first_seen,
		l.churned_at, r.last_day, COALESCE(a.a28, 0), COALESCE(a.a90, 0), COALESCE(a.m28, 0)`+sums+`
		FROM listeners l
		LEFT JOIN (
			SELECT listener_id, MAX(day) AS last_day FROM listener_activity
			WHERE tenant = $1 AND day < $2 AND (sessions > 0 OR minutes > 0 OR tracks > 0)
			GROUP BY listener_id
		) r ON r.listener_id = l.id
		LEFT JOIN (
			SELECT listener_id,
			COUNT(CASE WHEN day >= $3 THEN 1 END) AS a28,
			COUNT(*) AS a90,
			SUM(CASE WHEN day >= $3 THEN minutes END) AS m28`+weeks+`
			FROM listener_activity
			WHERE tenant = $1 AND day >= $4 AND day < $2 AND (sessions > 0 OR minutes > 0 OR tracks > 0)
			GROUP BY listener_id
		) a ON a.listener_id = l.id
		WHERE l.tenant = $1
		ORDER BY l.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sum listener activity: %w", err)
	}
	defer rows.Close()
	var out []ListenerWindows
	for rows.Next() {
		var lw ListenerWindows
		var first string
		var churned, last sql.NullString
		var a28, a90 int64
		dest := []any{&lw.ID, &lw.Plan, &lw.Country, &lw.AgeBand, &first, &churned, &last, &a28, &a90, &lw.Windows.Minutes28}
		for w := range lw.Windows.Weekly {
			dest = append(dest, &lw.Windows.Weekly[w])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		lw.Windows.Active28, lw.Windows.Active90 = int(a28), int(a90)
		if lw.FirstSeen, err = time.Parse(time.DateOnly, first); err != nil {
			return nil, fmt.Errorf("listener %s first_seen %q: %w", lw.ID, first, err)
		}
		if lw.ChurnedAt, err = optionalDay(churned); err != nil {
			return nil, fmt.Errorf("listener %s churned_at: %w", lw.ID, err)
		}
		if lw.Windows.LastActive, err = optionalDay(last); err != nil {
			return nil, fmt.Errorf("listener %s activity: %w", lw.ID, err)
		}
		lw.Windows.FirstSeen, lw.Windows.Until = lw.FirstSeen, cut
		out = append(out, lw)
	}
	return out, rows.Err()
}

func optionalDay(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, s.String)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// CampaignsOnChannel counts tenant's campaigns on channel.
func (s *Store) CampaignsOnChannel(ctx context.Context, tenant, channel string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaigns WHERE tenant = $1 AND channel = $2`, tenant, channel).Scan(&n)
	return n, err
}
