package tenantdata

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Campaign is one campaign as the marketing module manages it. Money is in whole millionths of
// the currency unit, days are YYYY-MM-DD.
type Campaign struct {
	ID             string
	Name           string
	Channel        string
	BudgetMicros   int64
	Currency       string
	TargetAudience *string
	StartDay       string
	EndDay         string
	Status         string
	Version        int64
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedBy      string
	UpdatedAt      time.Time
}

// FieldChange is one field's value before and after a change.
type FieldChange struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// CampaignChange is one recorded change of a campaign.
type CampaignChange struct {
	Version int64
	Action  string
	Actor   string
	At      time.Time
	Reason  string
	Changes map[string]FieldChange
}

// ErrCampaignNotFound is a campaign id the tenant does not have.
var ErrCampaignNotFound = errors.New("no such campaign")

// VersionConflictError is a change made against a version that is no longer the campaign's.
type VersionConflictError struct {
	Current Campaign
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("campaign %s is at version %d", e.Current.ID, e.Current.Version)
}

// NewCampaignID makes the id of a campaign created through the module; imported campaigns keep
// the ids of their files.
func NewCampaignID() string { return "cmp_" + strings.ToLower(rand.Text()[:16]) }

const campaignColumns = `id, name, channel, budget_micros, currency, target_audience, start_day, end_day, status,
	version, created_by, created_at, updated_by, updated_at`

func scanCampaign(row interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var audience sql.NullString
	var created, updated int64
	err := row.Scan(&c.ID, &c.Name, &c.Channel, &c.BudgetMicros, &c.Currency, &audience, &c.StartDay, &c.EndDay,
		&c.Status, &c.Version, &c.CreatedBy, &created, &c.UpdatedBy, &updated)
	if audience.Valid {
		c.TargetAudience = &audience.String
	}
	c.CreatedAt, c.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return c, err
}

// CreateCampaign stores c as version 1, made by actor, and records its creation.
func (s *Store) CreateCampaign(ctx context.Context, tenant string, c Campaign, actor, reason string) (Campaign, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	c.Version, c.CreatedBy, c.UpdatedBy, c.CreatedAt, c.UpdatedAt = 1, actor, actor, now, now
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaigns (tenant, `+campaignColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			tenant, c.ID, c.Name, c.Channel, c.BudgetMicros, c.Currency, c.TargetAudience, c.StartDay, c.EndDay, c.Status,
			c.Version, actor, now.UnixMilli(), actor, now.UnixMilli()); err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		return recordChange(ctx, tx, tenant, c.ID, CampaignChange{Version: 1, Action: "create", Actor: actor, At: now,
			Reason: reason, Changes: diffCampaigns(Campaign{}, c)})
	})
	return c, err
}

// Campaign reads one of tenant's campaigns.
func (s *Store) Campaign(ctx context.Context, tenant, id string) (Campaign, error) {
	c, err := scanCampaign(s.db.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE tenant = $1 AND id = $2`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrCampaignNotFound
	}
	return c, err
}

// CampaignHistory lists the recorded changes of one of tenant's campaigns, newest first, at most
// limit of them.
func (s *Store) CampaignHistory(ctx context.Context, tenant, id string, limit int) ([]CampaignChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, action, actor, at, reason, changes FROM campaign_changes
		WHERE tenant = $1 AND campaign_id = $2 ORDER BY version DESC LIMIT $3`, tenant, id, limit)
	if err != nil {
		return nil, fmt.Errorf("campaign history: %w", err)
	}
	defer rows.Close()
	out := []CampaignChange{}
	for rows.Next() {
		var ch CampaignChange
		var at int64
		var reason sql.NullString
		var changes string
		if err := rows.Scan(&ch.Version, &ch.Action, &ch.Actor, &at, &reason, &changes); err != nil {
			return nil, err
		}
		ch.At, ch.Reason = time.UnixMilli(at).UTC(), reason.String
		if err := json.Unmarshal([]byte(changes), &ch.Changes); err != nil {
			return nil, fmt.Errorf("campaign %s change %d: %w", id, ch.Version, err)
		}
		out = append(out, ch)
	}
	return out, rows.Err()
}

// CampaignPage is where a page of campaigns starts: after this creation time and id.
type CampaignPage struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
}

// Campaigns lists tenant's campaigns newest first, only those in status when it is not empty,
// limit of them after the page position when it is not nil. It returns the next page's
// position when there may be more.
func (s *Store) Campaigns(ctx context.Context, tenant, status string, after *CampaignPage, limit int) ([]Campaign, *CampaignPage, error) {
	q := `SELECT ` + campaignColumns + ` FROM campaigns WHERE tenant = $1 AND ($2 = '' OR status = $2)`
	args := []any{tenant, status}
	if after != nil {
		q += ` AND (created_at < $3 OR (created_at = $3 AND id < $4))`
		args = append(args, after.CreatedAt, after.ID)
	}
	q += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT %d`, limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	out := []Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(out) <= limit {
		return out, nil, nil
	}
	out = out[:limit]
	last := out[limit-1]
	return out, &CampaignPage{CreatedAt: last.CreatedAt.UnixMilli(), ID: last.ID}, nil
}

// ChangeCampaign applies change to one of tenant's campaigns and records it with actor, action
// and reason. With expected > 0 the campaign must still be at that version. change gets the
// campaign as stored and edits it, or returns an error that ChangeCampaign returns untouched.
// A change that changes nothing is not recorded. The update is conditional on the version it
// read, so two concurrent changes cannot both win.
func (s *Store) ChangeCampaign(ctx context.Context, tenant, id string, expected int64, action, actor, reason string,
	change func(*Campaign) error) (Campaign, error) {
	var out Campaign
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		before, err := scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE tenant = $1 AND id = $2`, tenant, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrCampaignNotFound
		}
		if err != nil {
			return err
		}
		if expected > 0 && before.Version != expected {
			return &VersionConflictError{Current: before}
		}
		after := before
		if err := change(&after); err != nil {
			return err
		}
		diff := diffCampaigns(before, after)
		if len(diff) == 0 {
			out = before
			return nil
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		after.Version, after.UpdatedBy, after.UpdatedAt = before.Version+1, actor, now
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET name = $1, channel = $2, budget_micros = $3, currency = $4,
				target_audience = $5, start_day = $6, end_day = $7, status = $8, version = $9, updated_by = $10, updated_at = $11
			WHERE tenant = $12 AND id = $13 AND version = $14`,
			after.Name, after.Channel, after.BudgetMicros, after.Currency, after.TargetAudience, after.StartDay, after.EndDay,
			after.Status, after.Version, actor, now.UnixMilli(), tenant, id, before.Version)
		if err != nil {
			return fmt.Errorf("update campaign: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			current, err := scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE tenant = $1 AND id = $2`, tenant, id))
			if err != nil {
				return err
			}
			return &VersionConflictError{Current: current}
		}
		out = after
		return recordChange(ctx, tx, tenant, id, CampaignChange{Version: after.Version, Action: action, Actor: actor, At: now,
			Reason: reason, Changes: diff})
	})
	return out, err
}

func recordChange(ctx context.Context, tx *sql.Tx, tenant, id string, ch CampaignChange) error {
	changes, err := json.Marshal(ch.Changes)
	if err != nil {
		return err
	}
	var reason *string
	if ch.Reason != "" {
		reason = &ch.Reason
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO campaign_changes (tenant, campaign_id, version, action, actor, at, reason, changes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tenant, id, ch.Version, ch.Action, ch.Actor, ch.At.UnixMilli(), reason, string(changes))
	if err != nil {
		return fmt.Errorf("record campaign change: %w", err)
	}
	return nil
}

// diffCampaigns lists the fields a caller can change that differ between before and after, with
// money in currency units.
func diffCampaigns(before, after Campaign) map[string]FieldChange {
	d := map[string]FieldChange{}
	add := func(name string, from, to any, same bool) {
		if !same {
			d[name] = FieldChange{From: from, To: to}
		}
	}
	str := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	orZero := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	add("name", orZero(before.Name), after.Name, before.Name == after.Name)
	add("channel", orZero(before.Channel), after.Channel, before.Channel == after.Channel)
	budget := func(c Campaign) any {
		if c.Currency == "" {
			return nil
		}
		return float64(c.BudgetMicros) / 1e6
	}
	add("budget", budget(before), budget(after), before.BudgetMicros == after.BudgetMicros)
	add("currency", orZero(before.Currency), after.Currency, before.Currency == after.Currency)
	add("targetAudience", str(before.TargetAudience), str(after.TargetAudience), str(before.TargetAudience) == str(after.TargetAudience))
	add("start", orZero(before.StartDay), after.StartDay, before.StartDay == after.StartDay)
	add("end", orZero(before.EndDay), after.EndDay, before.EndDay == after.EndDay)
	add("status", orZero(before.Status), after.Status, before.Status == after.Status)
	return d
}
