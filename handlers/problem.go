package handlers

import (
	"context"
	"net/http"

	"github.com/aidawg/jarvis/gen/jarvis"

	"github.com/aidawg/jarvis/middleware/problem"
	"github.com/aidawg/jarvis/services"
)

// problemResponse is a problem returned from a strict handler. It satisfies every operation's
// response interface, so that expected failures are typed responses rather than Go errors.
type problemResponse struct{ p jarvis.Problem }

func problemOf(ctx context.Context, e *services.Error) problemResponse {
	return problemResponse{problem.New(services.RequestID(ctx), "", e)}
}

// failed answers a service's error with its problem. Any other error is a bug or an outage:
// it goes back to the central error handler, which logs it and answers a generic 500.
func failed(ctx context.Context, err error) (problemResponse, error) {
	if se, ok := services.AsError(err); ok && problem.Known(se.Code) {
		return problemOf(ctx, se), nil
	}
	return problemResponse{}, err
}

func (r problemResponse) write(w http.ResponseWriter) error { return problem.Write(w, r.p) }

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
func (r problemResponse) VisitGetUsageResponse(w http.ResponseWriter) error        { return r.write(w) }
func (r problemResponse) VisitGetDataCoverageResponse(w http.ResponseWriter) error { return r.write(w) }
func (r problemResponse) VisitImportDataResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r problemResponse) VisitListGrantsResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r problemResponse) VisitRevokeGrantResponse(w http.ResponseWriter) error     { return r.write(w) }
