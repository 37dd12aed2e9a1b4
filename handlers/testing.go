package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/checks"
	"github.com/aidawg/jarvis/services/modules"
)

func (s *Server) RunHealthChecks(ctx context.Context, req jarvis.RunHealthChecksRequestObject) (jarvis.RunHealthChecksResponseObject, error) {
	start := time.Now()
	scope := checks.ScopeAll
	if req.Body.Scope != nil {
		scope = checks.Scope(*req.Body.Scope)
	}
	withMetrics := req.Body.IncludeMetrics == nil || *req.Body.IncludeMetrics
	rep := s.deps.Checks.Health(ctx, scope, withMetrics)

	health := jarvis.HealthReport{
		Status:    jarvis.HealthStatus(rep.Status),
		Scope:     jarvis.HealthReportScope(rep.Scope),
		CheckedAt: rep.CheckedAt,
		Checks:    make([]jarvis.HealthCheck, len(rep.Checks)),
	}
	for i, c := range rep.Checks {
		health.Checks[i] = jarvis.HealthCheck{
			Name:      c.Name,
			Scope:     jarvis.HealthCheckScope(c.Scope),
			Status:    jarvis.HealthStatus(c.Status),
			LatencyMs: float64(c.Latency.Microseconds()) / 1000,
			Detail:    c.Detail,
		}
	}
	if rep.Requests != nil {
		figures := jarvis.RequestFigures{Total: int(rep.Requests.Total), Errors: int(rep.Requests.Errors)}
		if figures.Total > 0 {
			figures.ErrorRate = float64(figures.Errors) / float64(figures.Total)
		}
		health.Metrics = &jarvis.HealthMetrics{Requests: figures}
		if j := rep.Jobs; j != nil {
			health.Metrics.Jobs = &jarvis.JobCounts{Queued: j.Queued, Running: j.Running, Completed: j.Completed,
				Failed: j.Failed, Cancelled: j.Cancelled}
		}
	}
	return jarvis.RunHealthChecks200JSONResponse(jarvis.HealthCheckResult{Health: health, Meta: meta(ctx, jarvis.Jarvis, start)}), nil
}

func (s *Server) RunValidation(ctx context.Context, req jarvis.RunValidationRequestObject) (jarvis.RunValidationResponseObject, error) {
	start := time.Now()
	criticalOnly := req.Body.Severity != nil && *req.Body.Severity == jarvis.ValidationRequestSeverityCritical
	rep, err := s.deps.Checks.Validate(ctx, string(req.Body.ValidationType), criticalOnly)
	if err != nil {
		se, ok := services.AsError(err)
		if !ok {
			return nil, err
		}
		if se.Code == services.CodeUnprocessable {
			// Jarvis made the params, so the caller cannot correct them: AI Dawg and Jarvis
			// disagree on the contract.
			se = &services.Error{Code: services.CodeBadGateway, Err: se, Detail: fmt.Sprintf(
				"AI Dawg refused the params Jarvis sent for %s: AI Dawg and Jarvis disagree on its contract. Retry later; if it persists, report the requestId.",
				modules.CmdRunValidation.Ref)}
		}
		return problemOf(ctx, se), nil
	}

	report := jarvis.ValidationReport{
		Valid:          rep.Valid,
		ValidationType: jarvis.ValidationReportValidationType(rep.Type),
		ChecksRun:      rep.ChecksRun,
		Issues:         make([]jarvis.ValidationIssue, len(rep.Issues)),
	}
	for i, is := range rep.Issues {
		report.Issues[i] = jarvis.ValidationIssue{
			Check:    is.Check,
			Category: jarvis.ValidationIssueCategory(is.Category),
			Severity: jarvis.ValidationIssueSeverity(is.Severity),
			Message:  is.Message,
		}
		if is.Field != "" {
			field := is.Field
			report.Issues[i].Field = &field
		}
	}
	servedBy := jarvis.Jarvis
	if rep.ServedBy != "" {
		servedBy = jarvis.ResponseMetaServedBy(rep.ServedBy)
	}
	return jarvis.RunValidation200JSONResponse(jarvis.ValidationResult{Validation: report, Meta: meta(ctx, servedBy, start)}), nil
}
