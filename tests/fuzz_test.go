package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services/storage/storagetest"
)

// fuzzTexts are parameter and header values: text no store can keep, odd numbers, wrong types
// and sizes. Each is sent as it is (escaped in paths and queries).
var fuzzTexts = []string{
	"", " ", "x", "\x00", "a\x00b", "\xff", "\xc3\x28", "\xed\xa0\x80", "é", "\u202e", "0", "-1", "1.0", "5e0", "1e400", "-1e400",
	"1e-400", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999", "NaN", "Infinity", "0x10",
	"true", "null", "[]", "{}", "%", "../..", "a/b", strings.Repeat("k", 300), strings.Repeat("é", 2000),
}

// fuzzValues replace a value inside a body.
var fuzzValues = []string{
	`null`, `true`, `""`, `"\u0000"`, `"a\u0000b"`, "\"\xff\"", "\"\xc3\x28\"", `"\ud800"`, `0`, `-0`, `5.0`, `5e0`, `0.5e1`,
	`1e400`, `-1e400`, `1e-400`, `9223372036854775808`, `-9223372036854775809`, `1.0000000000000000001`,
	`123456789012345678901234567890`, `[]`, `{}`, `[null]`, `{"\u0000":1}`, "{\"\xff\":1}", `"` + strings.Repeat("x", 5000) + `"`,
	`[` + strings.Repeat(`1,`, 2000) + `1]`,
}

// Every operation's parameters, headers and bodies, mutated at random with a fixed seed, on a
// server backed by PostgreSQL: nothing a caller sends makes a 5xx, except 501 for an operation
// this server does not carry out, and every answer is on contract (the client checks it).
func TestFuzzEveryOperationOnPostgres(t *testing.T) {
	t.Parallel()
	s := startServer(t, env{"JARVIS_DATABASE_URL": storagetest.PostgresURL(t), "JARVIS_SYNC_WAIT": "1s"})
	available := availableOperations(t, s)
	spec := loadSpec(t)
	ops := append([]*openapi.Operation(nil), spec.Operations...)
	sort.Slice(ops, func(i, j int) bool { return ops[i].ID < ops[j].ID })

	n := 2400
	if testing.Short() {
		n = 400
	}
	rng := rand.New(rand.NewPCG(20, 2026))
	statuses := map[int]int{}
	for i := range n {
		op := ops[i%len(ops)]
		method, target, header, body := fuzzRequest(rng, op)
		req, err := http.NewRequest(method, s.URL+target, strings.NewReader(body))
		require.NoError(t, err)
		req.Header = header
		resp, err := s.HTTP.Do(req)
		require.NoError(t, err, "%s %s %q", method, target, body)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		statuses[resp.StatusCode]++
		if resp.StatusCode == http.StatusNotImplemented {
			assert.False(t, available[op.ID], "%s answered 501 but is available: %s", op.ID, raw)
			continue
		}
		if !assert.Less(t, resp.StatusCode, 500, "%s %s %v %q\n%s", method, target, header, body, raw) {
			continue
		}
		if resp.StatusCode >= 400 {
			var p problemBody
			if assert.NoError(t, json.Unmarshal(raw, &p), "%s", raw) {
				assert.Equal(t, resp.StatusCode, p.Status)
				assert.NotEmpty(t, p.Code)
			}
		}
	}
	codes := make([]int, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var b strings.Builder
	for _, c := range codes {
		fmt.Fprintf(&b, " %d×%d", c, statuses[c])
	}
	t.Logf("%d requests over %d operations; statuses:%s", n, len(ops), b.String())
}

// fuzzRequest is op's example request with some of its parts mutated.
func fuzzRequest(rng *rand.Rand, op *openapi.Operation) (method, target string, header http.Header, body string) {
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	header = http.Header{}
	path := openapi.BasePath + op.Path
	query := []string{}
	for _, ref := range op.Op.Parameters {
		p := ref.Value
		v := "job_1"
		if e := p.Schema.Value.Enum; len(e) > 0 && p.In == openapi3.ParameterInPath {
			v = fmt.Sprint(e[0])
		}
		if p.In != openapi3.ParameterInPath {
			if rng.IntN(2) == 0 {
				continue
			}
			v = "1"
		}
		if rng.IntN(3) > 0 {
			v = pick(fuzzTexts)
		}
		switch p.In {
		case openapi3.ParameterInPath:
			if v == "" {
				v = "x"
			}
			path = strings.Replace(path, "{"+p.Name+"}", url.PathEscape(v), 1)
		case openapi3.ParameterInQuery:
			query = append(query, p.Name+"="+url.QueryEscape(v))
			if rng.IntN(4) == 0 {
				query = append(query, p.Name+"="+url.QueryEscape(pick(fuzzTexts)))
			}
		case openapi3.ParameterInHeader:
			header[http.CanonicalHeaderKey(p.Name)] = []string{headerSafe(v)}
		}
	}
	for _, h := range []string{"Idempotency-Key", "Openai-Conversation-Id", "Openai-Ephemeral-User-Id"} {
		if rng.IntN(4) == 0 {
			header[h] = []string{headerSafe(pick(fuzzTexts))}
		}
	}
	if rng.IntN(5) == 0 {
		query = append(query, "zz="+url.QueryEscape(pick(fuzzTexts)))
	}
	target = path
	if len(query) > 0 {
		target += "?" + strings.Join(query, "&")
	}
	method = op.Method
	if rb := op.Op.RequestBody; rb != nil && rb.Value.Content.Get("application/json") == nil {
		// A file: its example with one line replaced by fuzz, in one of its media types.
		types := sortedKeys(rb.Value.Content)
		mt := types[rng.IntN(len(types))]
		header.Set("Content-Type", mt)
		lines := strings.Split(rb.Value.Content[mt].Example.(string), "\n")
		lines[rng.IntN(len(lines))] = pick(fuzzTexts)
		body = strings.Join(lines, "\n")
	} else if rb != nil {
		header.Set("Content-Type", "application/json")
		body = fuzzBody(rng, rb.Value.Content.Get("application/json").Example)
	}
	return method, target, header, body
}

// headerSafe is v as a header can carry it: the client refuses control characters, which the
// server's HTTP layer would refuse anyway.
func headerSafe(v string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return 'x'
		}
		return r
	}, v)
}

// fuzzBody is the example with a value replaced somewhere, or its JSON broken.
func fuzzBody(rng *rand.Rand, example any) string {
	raw, _ := json.Marshal(example)
	switch rng.IntN(8) {
	case 0:
		return string(raw[:rng.IntN(len(raw)+1)]) // truncated
	case 1:
		return string(raw) + []string{" xyz", "{}", "\x00", " 1", "]"}[rng.IntN(5)]
	case 2:
		return string(raw)
	}
	var paths [][]any
	collectPaths(example, nil, &paths)
	at := paths[rng.IntN(len(paths))]
	v := fuzzValues[rng.IntN(len(fuzzValues))]
	return replaceAt(example, at, v)
}

func collectPaths(v any, path []any, out *[][]any) {
	*out = append(*out, append([]any(nil), path...))
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			collectPaths(v[k], append(path, k), out)
		}
	case []any:
		for i, m := range v {
			collectPaths(m, append(path, i), out)
		}
	}
}

// replaceAt is root as JSON with the value at path replaced by literal, written as is, even
// when it is not valid JSON text or UTF-8.
func replaceAt(root any, path []any, literal string) string {
	const mark = "\u0001fuzz\u0001"
	var set func(v any, path []any) any
	set = func(v any, path []any) any {
		if len(path) == 0 {
			return mark
		}
		switch k := path[0].(type) {
		case string:
			m := map[string]any{}
			for mk, mv := range v.(map[string]any) {
				m[mk] = mv
			}
			m[k] = set(m[k], path[1:])
			return m
		case int:
			a := append([]any(nil), v.([]any)...)
			a[k] = set(a[k], path[1:])
			return a
		}
		return v
	}
	out, _ := json.Marshal(set(root, path))
	return strings.Replace(string(out), `"\u0001fuzz\u0001"`, literal, 1)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
