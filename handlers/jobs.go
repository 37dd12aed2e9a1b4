package handlers

import (
	"context"

	"github.com/aidawg/jarvis/gen/jarvis"
)

func (s *Server) GetJobStatus(ctx context.Context, _ jarvis.GetJobStatusRequestObject) (jarvis.GetJobStatusResponseObject, error) {
	return notImplemented(ctx, "getJobStatus"), nil
}

func (s *Server) ListJobs(ctx context.Context, _ jarvis.ListJobsRequestObject) (jarvis.ListJobsResponseObject, error) {
	return notImplemented(ctx, "listJobs"), nil
}

func (s *Server) GetJobStats(ctx context.Context, _ jarvis.GetJobStatsRequestObject) (jarvis.GetJobStatsResponseObject, error) {
	return notImplemented(ctx, "getJobStats"), nil
}

func (s *Server) CancelJob(ctx context.Context, _ jarvis.CancelJobRequestObject) (jarvis.CancelJobResponseObject, error) {
	return notImplemented(ctx, "cancelJob"), nil
}
