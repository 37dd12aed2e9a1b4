package modules

import (
	"context"
	"reflect"

	"github.com/aidawg/jarvis/gen/aidawg"
)

// Ref names one AI Dawg command.
type Ref struct{ Module, Action string }

func (r Ref) String() string { return r.Module + "/" + r.Action }

// Command is an AI Dawg command with the Go types of its params and its result, so that a
// call is typed end to end while the wire stays the generic execute call.
type Command[P, R any] struct{ Ref }

// Described is a command whatever its types, for listing and checking them all.
type Described interface {
	CommandRef() Ref
	Types() (params, result reflect.Type)
}

func (c Command[P, R]) CommandRef() Ref { return c.Ref }

func (c Command[P, R]) Types() (params, result reflect.Type) {
	return reflect.TypeFor[P](), reflect.TypeFor[R]()
}

// The commands of the contract, one for each entry of its x-aidawg-commands.
var (
	CmdGenerateMusic    = Command[aidawg.GenerateMusicParams, aidawg.GenerateMusicResult]{Ref{"music", "generate-music"}}
	CmdAnalyzeTrack     = Command[aidawg.AnalyzeTrackParams, aidawg.AnalyzeTrackResult]{Ref{"music", "analyze-track"}}
	CmdAnalyzeVocal     = Command[aidawg.AnalyzeVocalParams, aidawg.AnalyzeVocalResult]{Ref{"music", "analyze-vocal"}}
	CmdValidateQuality  = Command[aidawg.ValidateQualityParams, aidawg.ValidateQualityResult]{Ref{"music", "validate-quality"}}
	CmdGetUsageStats    = Command[aidawg.GetUsageStatsParams, aidawg.GetUsageStatsResult]{Ref{"music", "get-usage-stats"}}
	CmdGetModelHealth   = Command[aidawg.GetModelHealthParams, aidawg.GetModelHealthResult]{Ref{"music", "get-model-health"}}
	CmdGetMetrics       = Command[aidawg.GetMetricsParams, aidawg.GetMetricsResult]{Ref{"marketing", "get-metrics"}}
	CmdManageCampaigns  = Command[aidawg.ManageCampaignsParams, aidawg.ManageCampaignsResult]{Ref{"marketing", "manage-campaigns"}}
	CmdRunCampaign      = Command[aidawg.RunCampaignParams, aidawg.RunCampaignResult]{Ref{"marketing", "run-campaign"}}
	CmdAnalyzeGrowth    = Command[aidawg.AnalyzeGrowthParams, aidawg.AnalyzeGrowthResult]{Ref{"marketing", "analyze-growth"}}
	CmdForecastRevenue  = Command[aidawg.ForecastRevenueParams, aidawg.ForecastRevenueResult]{Ref{"marketing", "forecast-revenue"}}
	CmdGetRevenue       = Command[aidawg.GetRevenueParams, aidawg.GetRevenueResult]{Ref{"marketing", "get-revenue"}}
	CmdGenerateReport   = Command[aidawg.GenerateReportParams, aidawg.GenerateReportResult]{Ref{"marketing", "generate-report"}}
	CmdAnalyzeSentiment = Command[aidawg.AnalyzeSentimentParams, aidawg.AnalyzeSentimentResult]{Ref{"engagement", "analyze-sentiment"}}
	CmdCheckChurnRisk   = Command[aidawg.CheckChurnRiskParams, aidawg.CheckChurnRiskResult]{Ref{"engagement", "check-churn-risk"}}
	CmdGetChurnUsers    = Command[aidawg.GetChurnUsersParams, aidawg.GetChurnUsersResult]{Ref{"engagement", "get-churn-users"}}
	CmdSendEngagement   = Command[aidawg.SendEngagementParams, aidawg.SendEngagementResult]{Ref{"engagement", "send-engagement"}}
	CmdGenerateForecast = Command[aidawg.GenerateForecastParams, aidawg.GenerateForecastResult]{Ref{"automation", "generate-forecast"}}
	CmdManageWorkflows  = Command[aidawg.ManageWorkflowsParams, aidawg.ManageWorkflowsResult]{Ref{"automation", "manage-workflows"}}
	CmdExecuteWorkflow  = Command[aidawg.ExecuteWorkflowParams, aidawg.ExecuteWorkflowResult]{Ref{"automation", "execute-workflow"}}
	CmdScaleResources   = Command[aidawg.ScaleResourcesParams, aidawg.ScaleResourcesResult]{Ref{"automation", "scale-resources"}}
	CmdGetScalingStatus = Command[aidawg.GetScalingStatusParams, aidawg.GetScalingStatusResult]{Ref{"automation", "get-scaling-status"}}
	CmdAggregateMetrics = Command[aidawg.AggregateMetricsParams, aidawg.AggregateMetricsResult]{Ref{"automation", "aggregate-metrics"}}
	CmdRunHealthChecks  = Command[aidawg.RunHealthChecksParams, aidawg.RunHealthChecksResult]{Ref{"testing", "run-health-checks"}}
	CmdRunValidation    = Command[aidawg.RunValidationParams, aidawg.RunValidationResult]{Ref{"testing", "run-validation"}}
)

// AllCommands lists every command this package knows, in contract order.
func AllCommands() []Described {
	return []Described{
		CmdGenerateMusic,
		CmdAnalyzeTrack,
		CmdAnalyzeVocal,
		CmdValidateQuality,
		CmdGetUsageStats,
		CmdGetModelHealth,
		CmdGetMetrics,
		CmdManageCampaigns,
		CmdRunCampaign,
		CmdAnalyzeGrowth,
		CmdForecastRevenue,
		CmdGetRevenue,
		CmdGenerateReport,
		CmdAnalyzeSentiment,
		CmdCheckChurnRisk,
		CmdGetChurnUsers,
		CmdSendEngagement,
		CmdGenerateForecast,
		CmdManageWorkflows,
		CmdExecuteWorkflow,
		CmdScaleResources,
		CmdGetScalingStatus,
		CmdAggregateMetrics,
		CmdRunHealthChecks,
		CmdRunValidation,
	}
}

// One typed method per command. Each answers the result, which backend served it, and an
// error whose services.Error code the handlers turn into a problem.

// GenerateMusic: generate a track from a prompt.
func (rt *Router) GenerateMusic(ctx context.Context, p aidawg.GenerateMusicParams) (aidawg.GenerateMusicResult, ServedBy, error) {
	return Call(ctx, rt, CmdGenerateMusic, p)
}

// AnalyzeTrack: analyse a track's tempo, key, loudness, structure and optionally vocals.
func (rt *Router) AnalyzeTrack(ctx context.Context, p aidawg.AnalyzeTrackParams) (aidawg.AnalyzeTrackResult, ServedBy, error) {
	return Call(ctx, rt, CmdAnalyzeTrack, p)
}

// AnalyzeVocal: analyse a track's lead vocal.
func (rt *Router) AnalyzeVocal(ctx context.Context, p aidawg.AnalyzeVocalParams) (aidawg.AnalyzeVocalResult, ServedBy, error) {
	return Call(ctx, rt, CmdAnalyzeVocal, p)
}

// ValidateQuality: check a track against a loudness and quality standard.
func (rt *Router) ValidateQuality(ctx context.Context, p aidawg.ValidateQualityParams) (aidawg.ValidateQualityResult, ServedBy, error) {
	return Call(ctx, rt, CmdValidateQuality, p)
}

// GetUsageStats: count generations, analyses and validations.
func (rt *Router) GetUsageStats(ctx context.Context, p aidawg.GetUsageStatsParams) (aidawg.GetUsageStatsResult, ServedBy, error) {
	return Call(ctx, rt, CmdGetUsageStats, p)
}

// GetModelHealth: report the health of each music model.
func (rt *Router) GetModelHealth(ctx context.Context, p aidawg.GetModelHealthParams) (aidawg.GetModelHealthResult, ServedBy, error) {
	return Call(ctx, rt, CmdGetModelHealth, p)
}

// GetMetrics: read streams, listeners, revenue and campaign figures.
func (rt *Router) GetMetrics(ctx context.Context, p aidawg.GetMetricsParams) (aidawg.GetMetricsResult, ServedBy, error) {
	return Call(ctx, rt, CmdGetMetrics, p)
}

// ManageCampaigns: create, update, get or list campaigns.
func (rt *Router) ManageCampaigns(ctx context.Context, p aidawg.ManageCampaignsParams) (aidawg.ManageCampaignsResult, ServedBy, error) {
	return Call(ctx, rt, CmdManageCampaigns, p)
}

// RunCampaign: start a campaign.
func (rt *Router) RunCampaign(ctx context.Context, p aidawg.RunCampaignParams) (aidawg.RunCampaignResult, ServedBy, error) {
	return Call(ctx, rt, CmdRunCampaign, p)
}

// AnalyzeGrowth: analyse audience growth and forecast listeners.
func (rt *Router) AnalyzeGrowth(ctx context.Context, p aidawg.AnalyzeGrowthParams) (aidawg.AnalyzeGrowthResult, ServedBy, error) {
	return Call(ctx, rt, CmdAnalyzeGrowth, p)
}

// ForecastRevenue: forecast monthly revenue.
func (rt *Router) ForecastRevenue(ctx context.Context, p aidawg.ForecastRevenueParams) (aidawg.ForecastRevenueResult, ServedBy, error) {
	return Call(ctx, rt, CmdForecastRevenue, p)
}

// GetRevenue: read revenue by channel.
func (rt *Router) GetRevenue(ctx context.Context, p aidawg.GetRevenueParams) (aidawg.GetRevenueResult, ServedBy, error) {
	return Call(ctx, rt, CmdGetRevenue, p)
}

// GenerateReport: write a marketing report.
func (rt *Router) GenerateReport(ctx context.Context, p aidawg.GenerateReportParams) (aidawg.GenerateReportResult, ServedBy, error) {
	return Call(ctx, rt, CmdGenerateReport, p)
}

// AnalyzeSentiment: measure listener sentiment and its topics.
func (rt *Router) AnalyzeSentiment(ctx context.Context, p aidawg.AnalyzeSentimentParams) (aidawg.AnalyzeSentimentResult, ServedBy, error) {
	return Call(ctx, rt, CmdAnalyzeSentiment, p)
}

// CheckChurnRisk: find segments of listeners at risk of leaving.
func (rt *Router) CheckChurnRisk(ctx context.Context, p aidawg.CheckChurnRiskParams) (aidawg.CheckChurnRiskResult, ServedBy, error) {
	return Call(ctx, rt, CmdCheckChurnRisk, p)
}

// GetChurnUsers: list listeners at risk of leaving.
func (rt *Router) GetChurnUsers(ctx context.Context, p aidawg.GetChurnUsersParams) (aidawg.GetChurnUsersResult, ServedBy, error) {
	return Call(ctx, rt, CmdGetChurnUsers, p)
}

// SendEngagement: send a re-engagement campaign to a segment.
func (rt *Router) SendEngagement(ctx context.Context, p aidawg.SendEngagementParams) (aidawg.SendEngagementResult, ServedBy, error) {
	return Call(ctx, rt, CmdSendEngagement, p)
}

// GenerateForecast: forecast a metric over the coming days.
func (rt *Router) GenerateForecast(ctx context.Context, p aidawg.GenerateForecastParams) (aidawg.GenerateForecastResult, ServedBy, error) {
	return Call(ctx, rt, CmdGenerateForecast, p)
}

// ManageWorkflows: create, update, delete, get or list workflows.
func (rt *Router) ManageWorkflows(ctx context.Context, p aidawg.ManageWorkflowsParams) (aidawg.ManageWorkflowsResult, ServedBy, error) {
	return Call(ctx, rt, CmdManageWorkflows, p)
}

// ExecuteWorkflow: run a workflow.
func (rt *Router) ExecuteWorkflow(ctx context.Context, p aidawg.ExecuteWorkflowParams) (aidawg.ExecuteWorkflowResult, ServedBy, error) {
	return Call(ctx, rt, CmdExecuteWorkflow, p)
}

// ScaleResources: change how many instances a resource runs.
func (rt *Router) ScaleResources(ctx context.Context, p aidawg.ScaleResourcesParams) (aidawg.ScaleResourcesResult, ServedBy, error) {
	return Call(ctx, rt, CmdScaleResources, p)
}

// GetScalingStatus: read each resource's instances, load and cost.
func (rt *Router) GetScalingStatus(ctx context.Context, p aidawg.GetScalingStatusParams) (aidawg.GetScalingStatusResult, ServedBy, error) {
	return Call(ctx, rt, CmdGetScalingStatus, p)
}

// AggregateMetrics: aggregate metrics into a series per interval.
func (rt *Router) AggregateMetrics(ctx context.Context, p aidawg.AggregateMetricsParams) (aidawg.AggregateMetricsResult, ServedBy, error) {
	return Call(ctx, rt, CmdAggregateMetrics, p)
}

// RunHealthChecks: check the health of each module.
func (rt *Router) RunHealthChecks(ctx context.Context, p aidawg.RunHealthChecksParams) (aidawg.RunHealthChecksResult, ServedBy, error) {
	return Call(ctx, rt, CmdRunHealthChecks, p)
}

// RunValidation: validate the modules' commands and business rules.
func (rt *Router) RunValidation(ctx context.Context, p aidawg.RunValidationParams) (aidawg.RunValidationResult, ServedBy, error) {
	return Call(ctx, rt, CmdRunValidation, p)
}
