package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

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

// rawRequest writes a request's head and the first part of its body on a new connection.
func rawRequest(t *testing.T, s *server, method, path, requestID string, contentLength int, body string) *net.TCPConn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nX-Request-Id: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		method, path, requestID, contentLength, body)
	require.NoError(t, err)
	return conn.(*net.TCPConn)
}

func readProblem(t *testing.T, conn net.Conn) (*http.Response, problemBody) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	var p problemBody
	require.NoError(t, jsonDecode(resp.Body, &p))
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	return resp, p
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// A body shorter than its Content-Length is the caller's fault, whether it stops coming or the
// caller closes its side: a 400 problem, not a 500, and nothing logged as an error.
func TestIncompleteBodiesAreTheCallersFault(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_READ_TIMEOUT": "1s"})

	t.Run("stops coming", func(t *testing.T) {
		conn := rawRequest(t, s, http.MethodPost, generate, "stops", 100, `{"prompt":`)
		resp, p := readProblem(t, conn)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "validation_failed", p.Code)
	})
	t.Run("caller closes its side", func(t *testing.T) {
		conn := rawRequest(t, s, http.MethodPost, generate, "closes", 100, `{"prompt":`)
		require.NoError(t, conn.CloseWrite())
		resp, p := readProblem(t, conn)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "validation_failed", p.Code)
	})
	t.Run("caller hangs up", func(t *testing.T) {
		conn := rawRequest(t, s, http.MethodPost, generate, "hangup", 100, `{"prompt":`)
		require.NoError(t, conn.Close())
		require.Eventually(t, func() bool {
			return strings.Contains(s.Logs.String(), `"requestId":"hangup","method":"POST","route"`)
		}, 10*time.Second, 10*time.Millisecond)
		assert.Contains(t, s.Logs.String(), `"status":400`)
	})
	for _, line := range strings.Split(s.Logs.String(), "\n") {
		assert.NotContains(t, line, `"level":"error"`)
		assert.NotContains(t, line, `"status":500`)
	}
	assert.Contains(t, s.Logs.String(), `"level":"debug"`)
}

// A body is one JSON value: anything after it but white space makes it malformed.
func TestDataAfterTheJSONBodyIsMalformed(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	const body = `{"validationType":"config"}`
	for _, tail := range []string{` xyz`, `{"validationType":"api"}`, "\x00", ` 1`, `]`} {
		resp, p := send(t, s, http.MethodPost, "/integrations/chatgpt/actions/testing/validate", "application/json", body+tail)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%q", tail)
		assert.Equal(t, "malformed_json", p.Code, "%q", tail)
	}
	resp, _ := send(t, s, http.MethodPost, "/integrations/chatgpt/actions/testing/validate", "application/json", body+" \r\n\t")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// An integer written with a fraction or an exponent is the integer: the handler gets it.
func TestIntegersWrittenAsFloatsAreIntegers(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	json := http.Header{"Content-Type": {"application/json"}}
	for _, d := range []string{"5", "5.0", "5e0", "0.5e1", "500e-2"} {
		resp, p, raw := sendWith(t, s, http.MethodPost, generate, json, `{"prompt":"calm piano","duration":`+d+`}`)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s %s", d, p.Code, raw)
		var answer struct {
			Track struct {
				DurationSeconds float64 `json:"durationSeconds"`
			} `json:"track"`
		}
		require.NoError(t, jsonDecode(bytes.NewReader(raw), &answer))
		assert.Equal(t, 5.0, answer.Track.DurationSeconds, "%s", d)
	}
	resp, _, _ := sendWith(t, s, http.MethodPost, generate, json, `{"prompt":"calm piano","duration":5.5}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// A single-valued query parameter given more than once is refused, naming it, whatever its
// values.
func TestRepeatedQueryParametersAreNamed(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for _, q := range []string{"limit=20&limit=abc", "limit=20&limit=30", "limit=&limit=5"} {
		resp, p, raw := sendWith(t, s, http.MethodGet, "/integrations/chatgpt/jobs?"+q, nil, "")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", q, raw)
		assert.Equal(t, "validation_failed", p.Code, q)
		assert.Contains(t, fields(p), "query:limit", "%s: %s", q, raw)
	}
}
