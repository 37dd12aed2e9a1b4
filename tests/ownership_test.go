package tests

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/gen/client"
	"github.com/aidawg/jarvis/services/keys"
)

// as makes the client's requests carry an API key.
func as(token string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// A job and a context belong to the user who made them: another caller gets 404 for the job's
// id, never sees it in lists or stats, and cannot read or erase the other's context.
func TestRecordsBelongToTheirUser(t *testing.T) {
	t.Parallel()
	eachDatabase(t, production(nil), func(t *testing.T, s *server) {
		ctx := context.Background()
		all := []string{"actions:read", "actions:write", "jobs"}
		_, alice := createKey(t, s, keys.NewKey{User: "alice", Scopes: all})
		_, bob := createKey(t, s, keys.NewKey{User: "bob", Scopes: all})

		made, err := s.Client.GenerateMusicWithResponse(ctx, nil, client.GenerateMusicRequest{Prompt: "alice's song", Duration: ptr(5)}, as(alice))
		require.NoError(t, err)
		require.NotNil(t, made.JSON200, "status %d: %s", made.StatusCode(), made.Body)
		list, err := s.Client.ListJobsWithResponse(ctx, nil, as(alice))
		require.NoError(t, err)
		require.Len(t, list.JSON200.Jobs, 1)
		jobID := list.JSON200.Jobs[0].Id

		status, err := s.Client.GetJobStatusWithResponse(ctx, jobID, as(bob))
		require.NoError(t, err)
		require.NotNil(t, status.ApplicationproblemJSON404, "status %d: %s", status.StatusCode(), status.Body)
		cancel, err := s.Client.CancelJobWithResponse(ctx, jobID, as(bob))
		require.NoError(t, err)
		require.NotNil(t, cancel.ApplicationproblemJSON404)
		bobs, err := s.Client.ListJobsWithResponse(ctx, nil, as(bob))
		require.NoError(t, err)
		assert.Empty(t, bobs.JSON200.Jobs)
		stats, err := s.Client.GetJobStatsWithResponse(ctx, as(bob))
		require.NoError(t, err)
		assert.Zero(t, stats.JSON200.Total)
		own, err := s.Client.GetJobStatusWithResponse(ctx, jobID, as(alice))
		require.NoError(t, err)
		require.NotNil(t, own.JSON200)

		aliceContext := func() client.UserContext {
			var params *client.GetUserContextParams
			resp, err := s.Client.GetUserContextWithResponse(ctx, params, as(alice))
			require.NoError(t, err)
			require.NotNil(t, resp.JSON200)
			return *resp.JSON200
		}
		require.Eventually(t, func() bool {
			resp, err := s.Client.GetUserContextWithResponse(ctx, nil, as(alice))
			return err == nil && resp.JSON200 != nil && resp.JSON200.Statistics.TotalActions == 1
		}, 20*time.Second, 20*time.Millisecond, "alice's action to be recorded")
		theirs, err := s.Client.GetUserContextWithResponse(ctx, nil, as(bob))
		require.NoError(t, err)
		require.NotNil(t, theirs.JSON200)
		assert.Zero(t, theirs.JSON200.Statistics.TotalActions, "bob sees only his own context")
		erase, err := s.Client.DeleteUserContextWithResponse(ctx, as(bob))
		require.NoError(t, err)
		assert.Equal(t, http.StatusNoContent, erase.StatusCode())
		assert.Equal(t, 1, aliceContext().Statistics.TotalActions, "bob's erase leaves alice's context")
	})
}
