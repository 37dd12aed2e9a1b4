package handlers

import (
	"context"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/usage"
)

// UsageReader reads metered usage.
type UsageReader interface {
	Query(ctx context.Context, f usage.Filter) ([]usage.Row, string, error)
}

// GetUsage reads usage per caller, operation and day. The admin scope is checked before any
// handler runs.
func (s *Server) GetUsage(ctx context.Context, req jarvis.GetUsageRequestObject) (jarvis.GetUsageResponseObject, error) {
	to := time.Now().UTC()
	if req.Params.To != nil {
		to = req.Params.To.Time
	}
	from := to.AddDate(0, 0, -6)
	if req.Params.From != nil {
		from = req.Params.From.Time
	}
	if from.After(to) {
		return problemOf(ctx, &services.Error{Code: services.CodeValidation,
			Detail: "from is after to. Give from on or before to, such as from=2026-11-01&to=2026-11-07.",
			Fields: []services.FieldError{{Field: "query:from", Message: "is after to"}}}), nil
	}
	f := usage.Filter{From: from.Format(usage.DayLayout), To: to.Format(usage.DayLayout), Limit: 100}
	if req.Params.KeyId != nil {
		f.KeyID = *req.Params.KeyId
	}
	if req.Params.Operation != nil {
		f.Operation = *req.Params.Operation
	}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	if req.Params.Cursor != nil {
		f.Cursor = *req.Params.Cursor
	}
	rows, next, err := s.opts.Usage.Query(ctx, f)
	if err != nil {
		if se, ok := services.AsError(err); ok {
			return problemOf(ctx, se), nil
		}
		return nil, err
	}
	report := jarvis.UsageReport{
		From:  openapi_types.Date{Time: from},
		To:    openapi_types.Date{Time: to},
		Usage: make([]jarvis.UsageRow, 0, len(rows)),
	}
	for _, r := range rows {
		day, err := time.Parse(usage.DayLayout, r.Day)
		if err != nil {
			return nil, err
		}
		row := jarvis.UsageRow{
			Day: openapi_types.Date{Time: day}, Subject: r.Subject, Method: jarvis.UsageRowMethod(r.Method),
			Tenant: r.Tenant, User: r.User, Operation: r.Operation,
			Calls: int(r.Calls), Errors: int(r.Errors), TotalDurationMs: int(r.DurationMs),
		}
		if r.KeyID != "" {
			id := r.KeyID
			row.KeyId = &id
		}
		report.Usage = append(report.Usage, row)
	}
	if next != "" {
		report.NextCursor = &next
	}
	return jarvis.GetUsage200JSONResponse(report), nil
}
