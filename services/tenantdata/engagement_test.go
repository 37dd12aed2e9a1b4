package tenantdata

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/engagement/churn"
	"github.com/aidawg/jarvis/services/storage"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

func TestEngagementQueries(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newTestStore(db)
		asOf := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		_, err := s.LoadDemo(ctx, "demo", 7, asOf)
		require.NoError(t, err)
		// Another tenant's listeners and feedback must never be counted.
		_, err = importString(t, s, "other", KindListeners, CSV, "id,plan,first_seen,churned_at\nL000001,free,2025-01-01,\nX1,free,2025-01-01,2025-06-01\n")
		require.NoError(t, err)
		_, err = importString(t, s, "other", KindListenerActivity, CSV, "listener_id,date,sessions,minutes,tracks\nL000001,2026-02-27,5,300,80\n")
		require.NoError(t, err)
		_, err = importString(t, s, "other", KindFeedback, CSV, "id,source,text,at\nF0001,social,other tenant,2026-02-01T00:00:00Z\n")
		require.NoError(t, err)

		t.Run("the database's windows give the features computed from daily activity", func(t *testing.T) {
			want := churn.Synthesize(7, DemoListeners, asOf)
			for _, cut := range []time.Time{asOf, asOf.AddDate(0, 0, -30)} {
				got, err := s.ListenerWindowsAt(ctx, "demo", cut)
				require.NoError(t, err)
				require.Len(t, got, DemoListeners)
				for i, l := range want {
					require.Equal(t, l.ID, got[i].ID)
					assert.Equal(t, l.Plan, got[i].Plan)
					assert.Equal(t, l.Country, got[i].Country)
					assert.Equal(t, l.AgeBand, got[i].AgeBand)
					wf, gf := churn.ComputeFeatures(l, cut), churn.WindowFeatures(got[i].Windows)
					assert.InDelta(t, wf.Minutes28, gf.Minutes28, 1e-6, l.ID)
					assert.InDelta(t, wf.Trend, gf.Trend, 1e-9, l.ID)
					wf.Minutes28, gf.Minutes28, wf.Trend, gf.Trend = 0, 0, 0, 0
					require.Equal(t, wf, gf, "listener %s at %s", l.ID, cut.Format(time.DateOnly))
					assert.Equal(t, l.ChurnedAt == nil, got[i].ChurnedAt == nil, l.ID)
				}
			}
		})

		t.Run("listener stats", func(t *testing.T) {
			st, err := s.ListenerStatsOf(ctx, "demo")
			require.NoError(t, err)
			assert.Equal(t, int64(DemoListeners), st.Listeners)
			labelled := 0
			for _, l := range churn.Synthesize(7, DemoListeners, asOf) {
				if l.ChurnedAt != nil {
					labelled++
				}
			}
			assert.Equal(t, int64(labelled), st.Labelled)
			require.NotNil(t, st.LastActivity)
			assert.Equal(t, "2026-02-28", st.LastActivity.Format(time.DateOnly))

			st, err = s.ListenerStatsOf(ctx, "nobody")
			require.NoError(t, err)
			assert.Equal(t, ListenerStats{}, st)
		})

		t.Run("feedback by source and range", func(t *testing.T) {
			all, err := s.FeedbackIn(ctx, "demo", "", asOf.AddDate(-3, 0, 0), asOf, 1000)
			require.NoError(t, err)
			assert.Equal(t, int64(300), all.Total)
			require.Len(t, all.Texts, 300)
			for i := 1; i < len(all.Texts); i++ {
				assert.False(t, all.Texts[i].At.Before(all.Texts[i-1].At), "oldest first")
			}
			var sum int64
			for _, n := range all.BySource {
				sum += n
			}
			assert.Equal(t, all.Total, sum)

			social, err := s.FeedbackIn(ctx, "demo", "social", asOf.AddDate(-3, 0, 0), asOf, 10)
			require.NoError(t, err)
			assert.Equal(t, all.BySource["social"], social.Total)
			assert.Len(t, social.Texts, 10, "the limit cuts the texts, not the count")
			var newest []Feedback
			for _, f := range all.Texts {
				if f.Source == "social" {
					newest = append(newest, f)
				}
			}
			assert.Equal(t, newest[len(newest)-10:], social.Texts, "the newest are read, oldest first")
			for _, f := range social.Texts {
				assert.Equal(t, "social", f.Source)
			}

			none, err := s.FeedbackIn(ctx, "demo", "", asOf, asOf.AddDate(0, 0, 1), 10)
			require.NoError(t, err)
			assert.Zero(t, none.Total)
		})

		t.Run("campaigns", func(t *testing.T) {
			day := asOf.Format(time.DateOnly)
			_, err := s.CreateCampaign(ctx, "demo", Campaign{ID: "reng-1", Name: "Win back", Channel: "re-engagement", Currency: "USD",
				Status: "scheduled", StartDay: day, EndDay: day}, "u1", "")
			require.NoError(t, err)
			_, err = s.CreateCampaign(ctx, "demo", Campaign{ID: "reng-1", Name: "Again", Channel: "re-engagement", Currency: "USD",
				Status: "scheduled", StartDay: day, EndDay: day}, "u1", "")
			assert.Error(t, err, "the id is taken")
			n, err := s.CampaignsOnChannel(ctx, "demo", "re-engagement")
			require.NoError(t, err)
			assert.Equal(t, int64(1), n)
			n, err = s.CampaignsOnChannel(ctx, "other", "re-engagement")
			require.NoError(t, err)
			assert.Zero(t, n)
			d, err := s.Dataset(ctx, "demo")
			require.NoError(t, err)
			assert.Equal(t, DatasetDemo, d)
		})
	})
}
