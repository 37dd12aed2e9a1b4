package reqvalidate_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/openapi"
)

// The same requests validated by kin-openapi as echo-middleware runs it (route with gorillamux,
// then openapi3filter.ValidateRequest with the options the contract was enforced with) and by
// reqvalidate (the operation Echo routed to, then Check). Each run rebuilds nothing but the
// request's body reader and query, so allocations are the validator's own.
var benchRequests = []struct {
	name, method, path, query, body string
}{
	{"runValidation", http.MethodPost, "/actions/testing/validate", "", `{"validationType":"config"}`},
	{"generateMusic", http.MethodPost, "/actions/music/generate", "",
		`{"prompt":"A warm lo-fi hip hop beat with vinyl crackle","duration":60,"genre":"lo-fi","mood":"relaxed","tempo":82,"key":"A minor"}`},
	{"manageCampaigns", http.MethodPost, "/actions/marketing/campaigns", "",
		`{"action":"create","name":"Winter EP launch","budget":500,"schedule":{"start":"2026-12-01","end":"2026-12-31"}}`},
	{"listJobs", http.MethodGet, "/jobs", "status=running&limit=10", ""},
	{"invalid generateMusic", http.MethodPost, "/actions/music/generate", "", `{"duration":1,"tempo":1,"x":1}`},
}

type benchBody struct{ bytes.Reader }

func (*benchBody) Close() error { return nil }

func newBenchRequest(b *testing.B, method, path, query string) *http.Request {
	req, err := http.NewRequest(method, "http://127.0.0.1:4000"+openapi.BasePath+path, nil)
	require.NoError(b, err)
	req.URL.RawQuery = query
	req.Header.Set("Content-Type", "application/json")
	return req
}

func BenchmarkValidate(b *testing.B) {
	spec, err := openapi.Load()
	require.NoError(b, err)
	v, err := reqvalidate.New(spec)
	require.NoError(b, err)
	doc, err := openapi.LoadDoc()
	require.NoError(b, err)
	doc.Servers = openapi3.Servers{{URL: openapi.BasePath}}
	router, err := gorillamux.NewRouter(doc)
	require.NoError(b, err)
	kinOptions := &openapi3filter.Options{
		MultiError:              true,
		SchemaValidationOptions: openapi.SchemaValidationOptions(),
		KeepValidatedValue:      true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
	}

	for _, rq := range benchRequests {
		data := []byte(rq.body)
		var body benchBody
		reset := func(req *http.Request) {
			body.Reset(data)
			req.Body = &body
			req.ContentLength = int64(len(data))
			req.URL.RawQuery = rq.query
		}
		wantValid := !strings.HasPrefix(rq.name, "invalid")

		b.Run(rq.name+"/kin-openapi", func(b *testing.B) {
			req := newBenchRequest(b, rq.method, rq.path, rq.query)
			b.ReportAllocs()
			for b.Loop() {
				reset(req)
				route, params, err := router.FindRoute(req)
				if err != nil {
					b.Fatal(err)
				}
				for k, p := range params {
					if u, err := url.PathUnescape(p); err == nil {
						params[k] = u
					}
				}
				err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
					Request: req, PathParams: params, Route: route, Options: kinOptions})
				if (err == nil) != wantValid {
					b.Fatalf("valid %v: %v", wantValid, err)
				}
			}
		})
		b.Run(rq.name+"/compiled", func(b *testing.B) {
			req := newBenchRequest(b, rq.method, rq.path, rq.query)
			echoPath := openapi.EchoPath(rq.path)
			b.ReportAllocs()
			for b.Loop() {
				reset(req)
				op, ok := v.Operation(req.Method, echoPath)
				if !ok {
					b.Fatal("no operation")
				}
				if err := op.Check(req, noParams{}); (err == nil) != wantValid {
					b.Fatalf("valid %v: %v", wantValid, err)
				}
			}
		})
	}

	// The parts of echo-middleware's flow that the compiled validator does not keep.
	b.Run("parts/gorillamux-FindRoute", func(b *testing.B) {
		req := newBenchRequest(b, http.MethodPost, "/actions/testing/validate", "")
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := router.FindRoute(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parts/security-noop", func(b *testing.B) {
		req := newBenchRequest(b, http.MethodPost, "/actions/testing/validate", "")
		route, params, err := router.FindRoute(req)
		require.NoError(b, err)
		data := []byte(`{"validationType":"config"}`)
		var body benchBody
		b.ReportAllocs()
		for b.Loop() {
			body.Reset(data)
			req.Body = &body
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: kinOptions}
			if err := openapi3filter.ValidateSecurityRequirements(context.Background(), in, doc.Security); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type noParams struct{}

func (noParams) Param(string) string { return "" }
