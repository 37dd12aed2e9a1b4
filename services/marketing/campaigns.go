package marketing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/modules"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/tenantdata"
)

// transitions are the statuses each status may change to. Completed and cancelled campaigns
// are final: what they spent is history.
var transitions = map[string][]string{
	"draft":     {"scheduled", "active", "cancelled"},
	"scheduled": {"draft", "active", "paused", "cancelled"},
	"active":    {"paused", "completed", "cancelled"},
	"paused":    {"scheduled", "active", "completed", "cancelled"},
	"completed": {},
	"cancelled": {},
}

// historyShown bounds the changes get answers with.
const historyShown = 50

func (m *Module) manageCampaigns(ctx context.Context, p aidawg.ManageCampaignsParams) (aidawg.ManageCampaignsResult, error) {
	out := aidawg.ManageCampaignsResult{Action: aidawg.ManageCampaignsResultAction(p.Action)}
	principal, f := tenantOf(ctx)
	if f != nil {
		return out, f
	}
	tenant, actor := principal.Tenant, principal.Actor()
	reason := ""
	if p.Reason != nil {
		reason = *p.Reason
	}
	if p.Action == aidawg.ManageCampaignsParamsActionList {
		return m.listCampaigns(ctx, tenant, p, out)
	}
	if p.Action == aidawg.ManageCampaignsParamsActionCreate {
		c, f := newCampaign(p, utcDay(m.now()))
		if f != nil {
			return out, f
		}
		created, err := m.store.CreateCampaign(ctx, tenant, c, actor, reason)
		if err != nil {
			return out, err
		}
		apiC := apiCampaign(created)
		out.Campaign = &apiC
		return out, nil
	}
	if p.CampaignId == nil {
		return out, modules.InvalidParams(fmt.Sprintf("action %s needs campaignId; list the campaigns to find it.", p.Action),
			services.FieldError{Field: "/campaignId", Message: "is required for " + string(p.Action)})
	}
	id := *p.CampaignId
	if p.Action == aidawg.ManageCampaignsParamsActionGet {
		c, err := m.store.Campaign(ctx, tenant, id)
		if err != nil {
			return out, campaignFailure(id, err)
		}
		history, err := m.store.CampaignHistory(ctx, tenant, id, historyShown)
		if err != nil {
			return out, err
		}
		apiC := apiCampaign(c)
		apiC.History = make([]aidawg.CampaignChange, len(history))
		for i, h := range history {
			apiC.History[i] = apiChange(h)
		}
		out.Campaign = &apiC
		return out, nil
	}
	expected := int64(0)
	if p.ExpectedVersion != nil {
		expected = int64(*p.ExpectedVersion)
	}
	today := utcDay(m.now())
	c, err := m.store.ChangeCampaign(ctx, tenant, id, expected, string(p.Action), actor, reason, func(c *tenantdata.Campaign) error {
		return applyChange(c, p, today)
	})
	if err != nil {
		return out, campaignFailure(id, err)
	}
	apiC := apiCampaign(c)
	out.Campaign = &apiC
	return out, nil
}

func (m *Module) listCampaigns(ctx context.Context, tenant string, p aidawg.ManageCampaignsParams, out aidawg.ManageCampaignsResult) (aidawg.ManageCampaignsResult, error) {
	limit := 20
	if p.Limit != nil {
		limit = *p.Limit
	}
	var after *tenantdata.CampaignPage
	if p.Cursor != nil {
		after = &tenantdata.CampaignPage{}
		if err := storage.DecodeCursor(*p.Cursor, after); err != nil || after.ID == "" {
			return out, modules.InvalidParams("The cursor is not one this list gave. Pass nextCursor from the previous page as it was, or leave cursor out for the first page.",
				services.FieldError{Field: "/cursor", Message: "is not a cursor of this list"})
		}
	}
	status := ""
	if p.FilterStatus != nil {
		status = string(*p.FilterStatus)
	}
	list, next, err := m.store.Campaigns(ctx, tenant, status, after, limit)
	if err != nil {
		return out, err
	}
	out.Campaigns = make([]aidawg.Campaign, len(list))
	for i, c := range list {
		out.Campaigns[i] = apiCampaign(c)
	}
	if next != nil {
		cur := storage.EncodeCursor(next)
		out.NextCursor = &cur
	}
	return out, nil
}

// newCampaign checks create's params and makes the campaign they describe.
func newCampaign(p aidawg.ManageCampaignsParams, today time.Time) (tenantdata.Campaign, *modules.Failure) {
	var fields []services.FieldError
	if p.Name == nil {
		fields = append(fields, services.FieldError{Field: "/name", Message: "is required for create"})
	}
	if p.Budget == nil {
		fields = append(fields, services.FieldError{Field: "/budget", Message: "is required for create"})
	}
	if p.Schedule == nil || p.Schedule.End == nil {
		fields = append(fields, services.FieldError{Field: "/schedule", Message: "with start and end is required for create"})
	}
	if p.CampaignId != nil {
		fields = append(fields, services.FieldError{Field: "/campaignId", Message: "is chosen by the server on create; leave it out"})
	}
	if len(fields) > 0 {
		return tenantdata.Campaign{}, modules.InvalidParams("create needs name, budget and a schedule with start and end.", fields...)
	}
	c := tenantdata.Campaign{ID: tenantdata.NewCampaignID(), Name: *p.Name, Channel: "other", Currency: "USD", Status: "draft",
		BudgetMicros: micros(*p.Budget), TargetAudience: p.TargetAudience,
		StartDay: p.Schedule.Start.Format(time.DateOnly), EndDay: p.Schedule.End.Format(time.DateOnly)}
	if p.Channel != nil {
		c.Channel = *p.Channel
	}
	if p.Currency != nil {
		c.Currency = *p.Currency
	}
	if p.Status != nil {
		c.Status = string(*p.Status)
	}
	if !slices.Contains([]string{"draft", "scheduled", "active"}, c.Status) {
		return c, modules.InvalidParams(fmt.Sprintf("A campaign starts as draft, scheduled or active, not %s.", c.Status),
			services.FieldError{Field: "/status", Message: "is not a starting status"})
	}
	if f := checkSchedule(c, today); f != nil {
		return c, f
	}
	return c, nil
}

// applyChange makes the change an update, pause, resume or cancel asks for.
func applyChange(c *tenantdata.Campaign, p aidawg.ManageCampaignsParams, today time.Time) error {
	if len(transitions[c.Status]) == 0 {
		return modules.Conflict(fmt.Sprintf("Campaign %s is %s and can no longer change. Create a new campaign instead.", c.ID, c.Status),
			services.FieldError{Field: "/campaignId", Message: "is " + c.Status})
	}
	target := ""
	switch p.Action {
	case aidawg.ManageCampaignsParamsActionPause:
		target = "paused"
	case aidawg.ManageCampaignsParamsActionResume:
		if c.Status != "paused" {
			return modules.Conflict(fmt.Sprintf("Campaign %s is %s, not paused, so it cannot be resumed.", c.ID, c.Status))
		}
		target = "active"
		if start, err := parseDay(c.StartDay); err == nil && start.After(today) {
			target = "scheduled"
		}
	case aidawg.ManageCampaignsParamsActionCancel:
		target = "cancelled"
	case aidawg.ManageCampaignsParamsActionUpdate:
		var fields []services.FieldError
		if p.Name != nil {
			c.Name = *p.Name
		}
		if p.Channel != nil {
			c.Channel = *p.Channel
		}
		if p.Budget != nil {
			c.BudgetMicros = micros(*p.Budget)
		}
		if p.Currency != nil {
			c.Currency = *p.Currency
		}
		if p.TargetAudience != nil {
			c.TargetAudience = p.TargetAudience
		}
		if p.Schedule != nil {
			c.StartDay = p.Schedule.Start.Format(time.DateOnly)
			if p.Schedule.End != nil {
				c.EndDay = p.Schedule.End.Format(time.DateOnly)
			}
		}
		if p.Status != nil {
			target = string(*p.Status)
		}
		if p.Name == nil && p.Channel == nil && p.Budget == nil && p.Currency == nil && p.TargetAudience == nil && p.Schedule == nil && p.Status == nil {
			fields = append(fields, services.FieldError{Field: "", Message: "names nothing to change"})
			return modules.InvalidParams("update needs at least one of name, channel, budget, currency, targetAudience, schedule or status.", fields...)
		}
		if f := checkSchedule(*c, time.Time{}); f != nil {
			return f
		}
	}
	if target != "" && target != c.Status {
		if !slices.Contains(transitions[c.Status], target) {
			return modules.Conflict(fmt.Sprintf("Campaign %s is %s; it can change to %s, not %s.", c.ID, c.Status,
				strings.Join(transitions[c.Status], ", "), target), services.FieldError{Field: "/status", Message: "is not reachable from " + c.Status})
		}
		c.Status = target
	}
	return nil
}

// checkSchedule checks that a campaign ends after it starts, and, for a new one (today set),
// that it does not end in the past.
func checkSchedule(c tenantdata.Campaign, today time.Time) *modules.Failure {
	if c.EndDay <= c.StartDay {
		return modules.InvalidParams(fmt.Sprintf("The schedule ends on %s, which is not after its start %s. Give an end after the start.", c.EndDay, c.StartDay),
			services.FieldError{Field: "/schedule/end", Message: "is not after start"})
	}
	if !today.IsZero() && c.EndDay < today.Format(time.DateOnly) {
		return modules.InvalidParams(fmt.Sprintf("The schedule ends on %s, which has passed. Import past campaigns with their results instead (jarvis data import campaigns FILE).", c.EndDay),
			services.FieldError{Field: "/schedule/end", Message: "is in the past"})
	}
	return nil
}

func campaignFailure(id string, err error) error {
	var conflict *tenantdata.VersionConflictError
	switch {
	case errors.Is(err, tenantdata.ErrCampaignNotFound):
		return modules.NotFound(fmt.Sprintf("This account has no campaign %s. List the campaigns to find its id.", id),
			services.FieldError{Field: "/campaignId", Message: "is not a campaign of this account"})
	case errors.As(err, &conflict):
		return modules.Conflict(fmt.Sprintf("Campaign %s changed since version you read: it is at version %d, last changed by %s at %s. Get it again, check the change, and retry with expectedVersion %d.",
			id, conflict.Current.Version, conflict.Current.UpdatedBy, conflict.Current.UpdatedAt.Format(time.RFC3339), conflict.Current.Version),
			services.FieldError{Field: "/expectedVersion", Message: fmt.Sprintf("is not the current version %d", conflict.Current.Version)})
	}
	return err
}

func micros(amount float64) int64 { return int64(math.Round(amount * 1e6)) }

func apiCampaign(c tenantdata.Campaign) aidawg.Campaign {
	start, _ := parseDay(c.StartDay)
	end, _ := parseDay(c.EndDay)
	endDate := openapi_types.Date{Time: end}
	return aidawg.Campaign{Id: c.ID, Name: c.Name, Channel: c.Channel, Status: aidawg.CampaignStatus(c.Status),
		Budget: float64(c.BudgetMicros) / 1e6, Currency: c.Currency, TargetAudience: c.TargetAudience,
		Schedule: aidawg.Schedule{Start: openapi_types.Date{Time: start}, End: &endDate}, Version: int(c.Version),
		CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy, UpdatedAt: c.UpdatedAt, UpdatedBy: c.UpdatedBy}
}

func apiChange(h tenantdata.CampaignChange) aidawg.CampaignChange {
	ch := aidawg.CampaignChange{Version: int(h.Version), Action: h.Action, By: h.Actor, At: h.At,
		Changes: make(map[string]struct {
			From interface{} `json:"from"`
			To   interface{} `json:"to"`
		}, len(h.Changes))}
	if h.Reason != "" {
		r := h.Reason
		ch.Reason = &r
	}
	for k, v := range h.Changes {
		ch.Changes[k] = struct {
			From interface{} `json:"from"`
			To   interface{} `json:"to"`
		}{From: v.From, To: v.To}
	}
	return ch
}
