package problem

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services"
)

// Every code a service can return has a status of its own: one missing from the table would
// answer as an internal error.
func TestEveryServiceCodeHasAStatus(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../services/errors.go", nil, 0)
	require.NoError(t, err)
	found := 0
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, v := range vs.Values {
				code, err := strconv.Unquote(v.(*ast.BasicLit).Value)
				require.NoError(t, err)
				found++
				assert.True(t, Known(services.Code(code)), "%s has no status", code)
			}
		}
	}
	assert.Greater(t, found, 10)
}

func TestWriteProblem(t *testing.T) {
	rec := httptest.NewRecorder()
	p := New("req_1", "/x", &services.Error{Code: services.CodeRateLimited, Detail: "Wait.", RetryAfter: 7,
		Fields: []services.FieldError{{Field: "query:limit", Message: "too big"}}})
	require.NoError(t, Write(rec, p))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "7", rec.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"type":"https://jarvis.aidawg.com/problems/rate_limited","title":"Rate limit reached","status":429,
		"detail":"Wait.","code":"rate_limited","requestId":"req_1","instance":"/x","retryAfter":7,
		"errors":[{"field":"query:limit","message":"too big"}]}`, rec.Body.String())

	unknown := New("", "", &services.Error{Code: "made_up", Detail: "secret internals"})
	assert.Equal(t, http.StatusInternalServerError, unknown.Status)
	assert.Equal(t, InternalDetail, unknown.Detail, "an unknown code reveals nothing")
}
