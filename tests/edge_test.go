package tests

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// startPostgresServer is a server on PostgreSQL, which refuses text SQLite would keep.
func startPostgresServer(t *testing.T) *server {
	t.Helper()
	return startServer(t, env{"JARVIS_DATABASE_URL": storagetest.PostgresURL(t)})
}

// Text that is not UTF-8 or holds a NUL is refused where it enters, naming where it was, in
// every part of a request; PostgreSQL never sees it.
func TestTextNoStoreCanKeepIsRefusedAtTheEdge(t *testing.T) {
	t.Parallel()
	s := startPostgresServer(t)
	json := http.Header{"Content-Type": {"application/json"}}
	with := func(h http.Header, k, v string) http.Header {
		out := h.Clone()
		out[k] = []string{v}
		return out
	}
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		body, field        string
	}{
		{"jobId with NUL", http.MethodGet, "/integrations/chatgpt/jobs/job%00x", nil, "", "path:jobId"},
		{"jobId not UTF-8", http.MethodGet, "/integrations/chatgpt/jobs/job%FFx", nil, "", "path:jobId"},
		{"cancel jobId not UTF-8", http.MethodPost, "/integrations/chatgpt/jobs/%C3%28/cancel", nil, "", "path:jobId"},
		{"keyId with NUL", http.MethodGet, "/integrations/chatgpt/admin/usage?keyId=k%00", nil, "", "query:keyId"},
		{"keyId not UTF-8", http.MethodGet, "/integrations/chatgpt/admin/usage?keyId=k%FF", nil, "", "query:keyId"},
		{"keyId repeated, the second not UTF-8", http.MethodGet, "/integrations/chatgpt/admin/usage?keyId=k&keyId=%FF", nil, "", "query:keyId"},
		{"Idempotency-Key not UTF-8", http.MethodPost, generate, with(json, "Idempotency-Key", "key-\xff"), `{"prompt":"calm piano"}`, "header:Idempotency-Key"},
		{"conversation id not UTF-8", http.MethodGet, "/integrations/chatgpt/context", http.Header{"Openai-Conversation-Id": {"conv-\xff"}}, "", "header:openai-conversation-id"},
		{"conversation id not UTF-8 on an action", http.MethodPost, generate, with(json, "Openai-Conversation-Id", "conv-\xc3\x28"), `{"prompt":"calm piano"}`, "header:openai-conversation-id"},
		{"ephemeral user id not UTF-8", http.MethodGet, "/integrations/chatgpt/jobs", http.Header{"Openai-Ephemeral-User-Id": {"\xfe"}}, "", "header:openai-ephemeral-user-id"},
		{"prompt with NUL", http.MethodPost, generate, json, `{"prompt":"calm\u0000piano"}`, "/prompt"},
		{"prompt not UTF-8", http.MethodPost, generate, json, "{\"prompt\":\"calm \xff piano\"}", "/prompt"},
		{"nested default param with NUL", http.MethodPut, "/integrations/chatgpt/context/preferences", json,
			`{"defaultParams":[{"operationId":"generateMusic","params":{"genre":"lo\u0000fi"}}]}`, "/defaultParams/0/params/genre"},
		{"nested default param not UTF-8", http.MethodPut, "/integrations/chatgpt/context/preferences", json,
			"{\"defaultParams\":[{\"operationId\":\"generateMusic\",\"params\":{\"genre\":\"lo\xfffi\"}}]}", "/defaultParams/0/params/genre"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, p, raw := sendWith(t, s, tc.method, tc.path, tc.header, tc.body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
			assert.Equal(t, "validation_failed", p.Code)
			assert.Contains(t, fields(p), tc.field, "%s", raw)
		})
	}
}
