package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
)

// ProblemTypeBase prefixes each problem's type URI; the code completes it.
const ProblemTypeBase = "https://jarvis.aidawg.com/problems/"

type codeInfo struct {
	status int
	title  string
}

// codes is the one table from service error codes to HTTP statuses.
var codes = map[services.Code]codeInfo{
	services.CodeValidation:           {http.StatusBadRequest, "The request does not match the contract"},
	services.CodeMalformedJSON:        {http.StatusBadRequest, "The body is not valid JSON"},
	services.CodeUnauthorized:         {http.StatusUnauthorized, "Authentication required"},
	services.CodeForbidden:            {http.StatusForbidden, "Not allowed"},
	services.CodeNotFound:             {http.StatusNotFound, "Not found"},
	services.CodeMethodNotAllowed:     {http.StatusMethodNotAllowed, "Method not allowed"},
	services.CodeConflict:             {http.StatusConflict, "Conflict"},
	services.CodePayloadTooLarge:      {http.StatusRequestEntityTooLarge, "Body too large"},
	services.CodeUnsupportedMediaType: {http.StatusUnsupportedMediaType, "Unsupported media type"},
	services.CodeUnprocessable:        {http.StatusUnprocessableEntity, "Cannot be carried out as asked"},
	services.CodeRateLimited:          {http.StatusTooManyRequests, "Rate limit reached"},
	services.CodeQuotaExceeded:        {http.StatusTooManyRequests, "Daily quota used up"},
	services.CodeInternal:             {http.StatusInternalServerError, "Internal error"},
	services.CodeNotImplemented:       {http.StatusNotImplemented, "Not implemented"},
	services.CodeBadGateway:           {http.StatusBadGateway, "Bad answer from AI Dawg"},
	services.CodeUnavailable:          {http.StatusServiceUnavailable, "Temporarily unavailable"},
	services.CodeTimeout:              {http.StatusGatewayTimeout, "AI Dawg did not answer in time"},
}

// StatusOf is the HTTP status for a service error code; unknown codes are internal errors.
func StatusOf(code services.Code) int {
	if ci, ok := codes[code]; ok {
		return ci.status
	}
	return http.StatusInternalServerError
}

// NewProblem renders a service error as the contract's problem body.
func NewProblem(requestID, instance string, e *services.Error) jarvis.Problem {
	ci, ok := codes[e.Code]
	if !ok {
		ci = codes[services.CodeInternal]
		e = &services.Error{Code: services.CodeInternal, Detail: InternalDetail}
	}
	p := jarvis.Problem{
		Type:   ProblemTypeBase + string(e.Code),
		Title:  ci.title,
		Status: ci.status,
		Detail: e.Detail,
		Code:   string(e.Code),
	}
	if requestID != "" {
		p.RequestId = &requestID
	}
	if instance != "" {
		p.Instance = &instance
	}
	if len(e.Fields) > 0 {
		fields := make([]jarvis.FieldError, len(e.Fields))
		for i, f := range e.Fields {
			fields[i] = jarvis.FieldError{Field: f.Field, Message: f.Message}
		}
		p.Errors = fields
	}
	if e.RetryAfter > 0 {
		ra := e.RetryAfter
		p.RetryAfter = &ra
	}
	return p
}

const InternalDetail = "Something went wrong inside Jarvis. Retry once; if it fails again, report the requestId."

// WriteProblem writes p as application/problem+json, with Retry-After when it has one.
func WriteProblem(w http.ResponseWriter, p jarvis.Problem) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	if p.RetryAfter != nil {
		h.Set("Retry-After", strconv.Itoa(*p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_, err = w.Write(append(body, '\n'))
	return err
}

// problemResponse is a problem returned from a strict handler. It satisfies every operation's
// response interface, so that expected failures are typed responses rather than Go errors.
type problemResponse struct{ p jarvis.Problem }

func problem(ctx context.Context, e *services.Error) problemResponse {
	return problemResponse{NewProblem(services.RequestID(ctx), "", e)}
}

func notImplemented(ctx context.Context, what string) problemResponse {
	return problem(ctx, services.Errorf(services.CodeNotImplemented,
		"%s is not available on this server yet. Call getIntegrationInfo to see which operations are available.", what))
}

func (r problemResponse) write(w http.ResponseWriter) error { return WriteProblem(w, r.p) }

func (r problemResponse) VisitGetIntegrationInfoResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r problemResponse) VisitGenerateMusicResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r problemResponse) VisitAnalyzeMusicResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r problemResponse) VisitValidateMusicResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r problemResponse) VisitAnalyzeGrowthResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r problemResponse) VisitManageCampaignsResponse(w http.ResponseWriter) error { return r.write(w) }
func (r problemResponse) VisitGetMarketingMetricsResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r problemResponse) VisitAnalyzeSentimentResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r problemResponse) VisitDetectChurnResponse(w http.ResponseWriter) error { return r.write(w) }
func (r problemResponse) VisitCreateReEngagementResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r problemResponse) VisitManageWorkflowsResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r problemResponse) VisitGenerateForecastResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r problemResponse) VisitManageScalingResponse(w http.ResponseWriter) error { return r.write(w) }
func (r problemResponse) VisitRunHealthChecksResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r problemResponse) VisitRunValidationResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r problemResponse) VisitListJobsResponse(w http.ResponseWriter) error       { return r.write(w) }
func (r problemResponse) VisitGetJobStatsResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r problemResponse) VisitGetJobStatusResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r problemResponse) VisitCancelJobResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r problemResponse) VisitGetUserContextResponse(w http.ResponseWriter) error { return r.write(w) }
func (r problemResponse) VisitUpdatePreferencesResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r problemResponse) VisitDeleteUserContextResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r problemResponse) VisitGetUsageResponse(w http.ResponseWriter) error { return r.write(w) }
