package reqvalidate_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/middleware"
	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/openapi"
)

var (
	fuzzOnce        sync.Once
	fuzzOurs, fuzzK *stack
)

// FuzzVerdictsMatchKinOpenAPI sends arbitrary bodies to an operation whose schema kin-openapi
// checks with its 3.0 visitor and to one it checks with JSON Schema 2020-12; both stacks must
// answer the same status. Its seeds run with the tests; go test -fuzz explores further.
func FuzzVerdictsMatchKinOpenAPI(f *testing.F) {
	for _, seed := range []string{
		`{"action":"create","name":"Winter EP launch","budget":500,"schedule":{"start":"2026-12-01","end":"2026-12-31"}}`,
		`{"action":"list","limit":null,"cursor":"c"}`,
		`{"action":"update","campaignId":"cmp_1","budget":1e400}`,
		`{"prompt":"x","duration":30.0,"key":null,"callbackUrl":"https://h/x"}`,
		`{"prompt":"x","tempo":220.00000000000000001,"seed":4294967295}`,
		`[1,{"a":null}]`,
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, body string, campaigns bool) {
		fuzzOnce.Do(func() {
			spec, err := openapi.Load()
			require.NoError(t, err)
			v, err := reqvalidate.New(spec)
			require.NoError(t, err)
			fuzzOurs = newStack(t, spec, middleware.Validate(v, nil))
			fuzzK = newStack(t, spec, kinValidate(t))
		})
		path := openapi.BasePath + "/actions/music/generate"
		if campaigns {
			path = openapi.BasePath + "/actions/marketing/campaigns"
		}
		rq := request{name: "fuzz", method: http.MethodPost, target: path, body: body, contentType: "application/json", header: http.Header{}}
		want, got := fuzzK.do(t, rq), fuzzOurs.do(t, rq)
		if want.status != got.status {
			t.Fatalf("%s\nkin: %d %s\nours: %d %s", rq, want.status, want.body, got.status, got.body)
		}
	})
}
