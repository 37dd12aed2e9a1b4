package modules

import (
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
