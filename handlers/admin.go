package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/middleware/problem"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/tenantdata"
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

// DataService imports and describes the tenants' data.
type DataService interface {
	Import(ctx context.Context, tenant string, kind tenantdata.Kind, format tenantdata.Format, r io.Reader) (tenantdata.Report, error)
	Coverage(ctx context.Context, tenant string) (tenantdata.Coverage, error)
}

// adminTenant is the tenant an admin operation acts on: the one named, or the caller's own.
func adminTenant(ctx context.Context, named *string) string {
	if named != nil {
		return *named
	}
	p, _ := services.PrincipalFrom(ctx)
	return p.Tenant
}

// GetDataCoverage answers what data a tenant holds. The admin scope is checked before any
// handler runs.
func (s *Server) GetDataCoverage(ctx context.Context, req jarvis.GetDataCoverageRequestObject) (jarvis.GetDataCoverageResponseObject, error) {
	c, err := s.deps.Data.Coverage(ctx, adminTenant(ctx, req.Params.Tenant))
	if err != nil {
		return failed(ctx, err)
	}
	out := jarvis.GetDataCoverage200JSONResponse{Tenant: c.Tenant}
	if c.Dataset != "" {
		d := jarvis.DataCoverageDataset(c.Dataset)
		out.Dataset = &d
	}
	for _, k := range c.Kinds {
		kc := struct {
			From *openapi_types.Date `json:"from,omitempty"`
			Kind string              `json:"kind"`
			Rows int                 `json:"rows"`
			To   *openapi_types.Date `json:"to,omitempty"`
		}{Kind: string(k.Kind), Rows: int(k.Rows)}
		if from, err := time.Parse(time.DateOnly, k.From); err == nil {
			kc.From = &openapi_types.Date{Time: from}
		}
		if to, err := time.Parse(time.DateOnly, k.To); err == nil {
			kc.To = &openapi_types.Date{Time: to}
		}
		out.Kinds = append(out.Kinds, kc)
	}
	return out, nil
}

// mediaFormats are the file formats importData takes, by Content-Type.
var mediaFormats = map[string]tenantdata.Format{"text/csv": tenantdata.CSV, "application/x-ndjson": tenantdata.JSONL}

// ImportData imports one file as it arrives, all rows or none.
func (s *Server) ImportData(ctx context.Context, req jarvis.ImportDataRequestObject) (jarvis.ImportDataResponseObject, error) {
	format := tenantdata.CSV
	if sb, ok := req.Body.(interface{ MediaType() string }); ok {
		format = mediaFormats[sb.MediaType()]
	}
	tenant := adminTenant(ctx, req.Params.Tenant)
	body := &cappedReader{r: req.Body, left: s.opts.ImportMaxBytes}
	rep, err := s.deps.Data.Import(ctx, tenant, tenantdata.Kind(req.Kind), format, body)
	switch {
	case body.read == 0:
		// A chunked upload has no length to refuse it by before it is read.
		return problemOf(ctx, &services.Error{Code: services.CodeValidation, Detail: "The body is empty. Send the file's content as the body.",
			Fields: []services.FieldError{{Field: "", Message: "is required but missing"}}}), nil
	case body.over:
		return problemOf(ctx, &services.Error{Code: problem.CodePayloadTooLarge, Detail: fmt.Sprintf(
			"The file is larger than the %d bytes one import takes, so nothing was imported. Split it into smaller files (rows are upserted, so the parts can be imported one after another).",
			s.opts.ImportMaxBytes)}), nil
	case err != nil && rep.Rejected > 0:
		se, _ := services.AsError(err)
		e := *se
		for _, re := range rep.Errors {
			e.Fields = append(e.Fields, services.FieldError{Field: re.Column, Message: re.Reason, Line: re.Line})
		}
		return problemOf(ctx, &e), nil
	case err != nil:
		return failed(ctx, err)
	}
	out := jarvis.ImportData200JSONResponse{Tenant: tenant, Kind: string(rep.Kind), Format: jarvis.ImportReportFormat(rep.Format),
		Read: rep.Read, Inserted: rep.Inserted, Updated: rep.Updated, Unchanged: rep.Unchanged, Rejected: rep.Rejected,
		Errors: []jarvis.FieldError{}}
	return out, nil
}

// cappedReader reads at most left bytes of r, and notes a body that has more.
type cappedReader struct {
	r    io.Reader
	left int64
	read int64
	over bool
}

var errBodyTooLarge = errors.New("body too large")

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			c.over = true
			return 0, errBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	c.read += int64(n)
	return n, err
}
