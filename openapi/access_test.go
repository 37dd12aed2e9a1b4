package openapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/ratelimit"
)

func TestScopesAndRateClassesOfEveryOperation(t *testing.T) {
	spec, err := openapi.Load()
	require.NoError(t, err)
	want := map[string][2]string{
		"generateMusic":       {services.ScopeActionsWrite, "music.generate"},
		"analyzeMusic":        {services.ScopeActionsRead, "music.analyze"},
		"validateMusic":       {services.ScopeActionsRead, "music.validate"},
		"getMarketingMetrics": {services.ScopeActionsRead, "marketing.metrics"},
		"manageCampaigns":     {services.ScopeActionsWrite, "marketing.campaigns"},
		"analyzeGrowth":       {services.ScopeActionsRead, "marketing.growth-analysis"},
		"analyzeSentiment":    {services.ScopeActionsRead, "engagement.sentiment"},
		"detectChurn":         {services.ScopeActionsRead, "engagement.churn"},
		"createReEngagement":  {services.ScopeActionsWrite, "engagement.re-engage"},
		"manageWorkflows":     {services.ScopeActionsWrite, "automation.workflows"},
		"generateForecast":    {services.ScopeActionsRead, "automation.forecasts"},
		"manageScaling":       {services.ScopeAdmin, "automation.scaling"},
		"runHealthChecks":     {services.ScopeActionsRead, "testing.health"},
		"runValidation":       {services.ScopeActionsRead, "testing.validate"},
		"getJobStatus":        {services.ScopeJobs, "jobs.read"},
		"listJobs":            {services.ScopeJobs, "jobs.read"},
		"getJobStats":         {services.ScopeJobs, "jobs.read"},
		"cancelJob":           {services.ScopeJobs, "jobs.cancel"},
		"getIntegrationInfo":  {"", "integration"},
		"getUsage":            {services.ScopeAdmin, "admin.usage"},
		"getDataCoverage":     {services.ScopeAdmin, "admin.data"},
		"importData":          {services.ScopeAdmin, "admin.data"},
		"listGrants":          {"", "account.grants"},
		"revokeGrant":         {"", "account.grants"},
		"getUserContext":      {services.ScopeActionsRead, "context"},
		"updatePreferences":   {services.ScopeActionsWrite, "context.preferences"},
		"deleteUserContext":   {services.ScopeActionsWrite, "context"},
	}
	for _, o := range spec.Operations {
		w, ok := want[o.ID]
		if !assert.True(t, ok, "%s has no expected scope and class here", o.ID) {
			continue
		}
		assert.Equal(t, w[0], o.Scope(), o.ID)
		assert.Equal(t, w[1], o.RateClass(), o.ID)
		if o.Module != "integration" && o.Module != "admin" && o.Module != "context" && o.Module != "account" && o.ID != "cancelJob" {
			assert.Contains(t, ratelimit.DefaultRates, o.RateClass(), "%s's class has a default rate of its own", o.ID)
		}
	}
	// The scope names agree with the services'.
	assert.Equal(t, services.AllScopes, []string{openapi.ScopeActionsRead, openapi.ScopeActionsWrite, openapi.ScopeJobs, openapi.ScopeAdmin})
}
