package reqvalidate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	oapimw "github.com/oapi-codegen/echo-middleware"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aidawg/jarvis/middleware"
	"github.com/aidawg/jarvis/middleware/reqvalidate"
	"github.com/aidawg/jarvis/openapi"
)

// Every operation's example and a corpus of mutations generated from the contract's schemas go
// through kin-openapi's own validation of the 3.1 contract (echo-middleware over
// openapi3filter.ValidateRequest, as the contract was enforced before) and through Validate.
// Both must answer the same status; for an accepted request, the validated body must hold
// every value kin-openapi's does.
func TestVerdictsMatchKinOpenAPI(t *testing.T) {
	t.Parallel()
	spec, err := openapi.Load()
	require.NoError(t, err)
	ours := newStack(t, spec, func() echo.MiddlewareFunc {
		v, err := reqvalidate.New(spec)
		require.NoError(t, err)
		return middleware.Validate(v, nil)
	}())
	kin := newStack(t, spec, kinValidate(t))

	corpus := generateCorpus(t, spec)
	require.Greater(t, len(corpus), 1000, "the corpus is too small to mean much")
	if testing.Short() {
		// Every tenth request still reaches every operation; make test runs the whole corpus.
		short := corpus[:0:0]
		for i := 0; i < len(corpus); i += 10 {
			short = append(short, corpus[i])
		}
		corpus = short
	}

	accepted, rejected, differ := 0, 0, 0
	for _, rq := range corpus {
		want := kin.do(t, rq)
		got := ours.do(t, rq)
		if rq.differs != nil {
			// A deliberate difference: kin-openapi's verdict is pinned too, so that the
			// difference is known exactly and noticed when kin-openapi changes.
			differ++
			if rq.differs.kin != 0 {
				assert.Equal(t, rq.differs.kin, want.status, "kin-openapi on %s\nkin: %s", rq, want.body)
			}
			assert.Equal(t, rq.differs.ours, got.status, "%s (%s)\nours: %s", rq, rq.differs.why, got.body)
			if rq.differs.code != "" {
				assert.Contains(t, got.body, `"code":"`+rq.differs.code+`"`, "%s", rq)
			}
			continue
		}
		if !assert.Equal(t, want.status, got.status, "%s\nkin: %s\nours: %s", rq, want.body, got.body) {
			continue
		}
		if want.status != http.StatusOK {
			rejected++
			continue
		}
		accepted++
		assert.Equal(t, want.query, got.query, "query after validation of %s", rq)
		if rq.file {
			continue // a file is read by its handler as it streams, never held as a value
		}
		assertHolds(t, want.value, got.value, rq.String())
	}
	t.Logf("%d requests: %d accepted, %d rejected by both, %d deliberately answered otherwise", len(corpus), accepted, rejected, differ)
	assert.NotZero(t, differ)
	assert.Greater(t, accepted, len(corpus)/8)
	assert.Greater(t, rejected, len(corpus)/2)
}

// assertHolds checks that got has every member of want with the same value; got may hold
// more (defaults kin-openapi does not fill in for some schemas).
func assertHolds(t *testing.T, want, got any, what string) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !assert.True(t, ok, "%s: validated value %v, kin-openapi's %v", what, got, want) {
			return
		}
		for k, v := range w {
			assertHolds(t, v, g[k], what+" /"+k)
		}
	case []any:
		g, ok := got.([]any)
		if !assert.True(t, ok && len(g) == len(w), "%s: validated value %v, kin-openapi's %v", what, got, want) {
			return
		}
		for i := range w {
			assertHolds(t, w[i], g[i], fmt.Sprintf("%s /%d", what, i))
		}
	case json.Number:
		// Validate writes integers such as 5.0 or 5e0 as 5, the same number.
		g, ok := got.(json.Number)
		wr, wok := new(big.Rat).SetString(string(w))
		gr, gok := new(big.Rat).SetString(string(g))
		assert.True(t, ok && wok && gok && wr.Cmp(gr) == 0, "%s: validated value %v, kin-openapi's %v", what, got, want)
	default:
		assert.Equal(t, want, got, what)
	}
}

// kinValidate is the validation the contract was enforced with before Validate: content type,
// then echo-middleware with kin-openapi.
func kinValidate(t *testing.T) echo.MiddlewareFunc {
	doc, err := openapi.LoadDoc()
	require.NoError(t, err)
	doc.Servers = openapi3.Servers{{URL: openapi.BasePath}}
	mw := oapimw.OapiRequestValidatorWithOptions(doc, &oapimw.Options{
		Options: openapi3filter.Options{
			MultiError:              true,
			SchemaValidationOptions: openapi.SchemaValidationOptions(),
			KeepValidatedValue:      true,
			AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		},
		SilenceServersWarning: true,
		ErrorHandler: func(c echo.Context, he *echo.HTTPError) error {
			var tooLarge *echo.HTTPError
			if he.Internal != nil && errors.As(he.Internal, &tooLarge) && tooLarge.Code == http.StatusRequestEntityTooLarge {
				return tooLarge
			}
			if he.Code == http.StatusNotFound || he.Code == http.StatusMethodNotAllowed {
				return he
			}
			return echo.NewHTTPError(http.StatusBadRequest, he.Error())
		},
	})
	return mw
}

type stack struct {
	e *echo.Echo
}

type outcome struct {
	status int
	body   string
	query  string
	value  any
}

// newStack is Echo with the API's routes under validate, each answering what it received.
func newStack(t *testing.T, spec *openapi.Spec, validate echo.MiddlewareFunc) *stack {
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(zerolog.Nop())
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().URL.Path == openapi.BasePath {
				c.Request().URL.Path = openapi.BasePath + "/"
			}
			return next(c)
		}
	})
	api := e.Group(openapi.BasePath, validate)
	for _, op := range spec.Operations {
		api.Add(op.Method, strings.TrimPrefix(op.EchoPath, openapi.BasePath), func(c echo.Context) error {
			var value any
			if vb, ok := c.Request().Body.(interface{ ValidatedValue() any }); ok {
				value = vb.ValidatedValue()
			}
			return c.JSON(http.StatusOK, map[string]any{"query": c.Request().URL.RawQuery, "value": value})
		})
	}
	return &stack{e: e}
}

func (s *stack) do(t *testing.T, rq request) outcome {
	req := httptest.NewRequest(rq.method, rq.target, strings.NewReader(rq.body))
	switch {
	case rq.contentType != "":
		req.Header.Set("Content-Type", rq.contentType)
	case rq.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	out := outcome{status: rec.Code, body: rec.Body.String()}
	if rec.Code == http.StatusOK {
		var answer struct {
			Query string `json:"query"`
			Value any    `json:"value"`
		}
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&answer))
		out.query, out.value = answer.Query, answer.Value
	}
	return out
}

type request struct {
	file        bool // a body of files, which is streamed
	name        string
	method      string
	target      string
	body        string
	contentType string
	header      http.Header
	differs     *difference // nil: kin-openapi's verdict is the one to give
}

// difference is a verdict deliberately other than kin-openapi's.
type difference struct {
	why       string
	kin, ours int    // kin 0: kin-openapi's verdict depends on the value
	code      string // of our problem
}

// trailingData: kin-openapi decodes a body's first JSON value and ignores what follows it,
// which would be dropped unseen; such a body is malformed.
// repeatedParam: kin-openapi validates the first non-empty value of a single-valued query
// parameter sent more than once and ignores the others (its verdict is that value's), while the
// generated binder refuses the request without naming the parameter; it is refused naming it.
var repeatedParam = difference{why: "a single-valued query parameter given more than once", ours: http.StatusBadRequest, code: "validation_failed"}

// kin-openapi has no decoder for JSON Lines; a file body is streamed to its handler, which
// reads it row by row, so only its media type is checked before.
var ndjsonBody = difference{why: "a JSON Lines file", ours: http.StatusOK}

// A file in a media type the operation does not take is 415, as a JSON body in another type is.
var otherMediaType = difference{why: "a file body in another media type", ours: http.StatusUnsupportedMediaType, code: "unsupported_media_type"}

var trailingData = difference{why: "data after the JSON value", kin: http.StatusOK, ours: http.StatusBadRequest, code: "malformed_json"}

func (r request) String() string {
	return fmt.Sprintf("%s: %s %s %v %s", r.name, r.method, r.target, r.header, r.body)
}

// generateCorpus makes the requests: for each operation its example, a minimal and a full
// valid request generated from its schemas, and the mutations of each; then routes that are not
// operations.
func generateCorpus(t *testing.T, spec *openapi.Spec) []request {
	var out []request
	for _, op := range spec.Operations {
		g := &generator{op: op}
		target := strings.NewReplacer("{jobId}", "job_1", "{kind}", "metrics").Replace(openapi.BasePath + op.Path)
		base := request{method: op.Method, target: target, header: http.Header{}}
		if rb := op.Op.RequestBody; rb != nil && rb.Value.Content.Get("application/json") == nil {
			out = append(out, fileRequests(op, base, rb.Value.Content)...)
		} else if rb != nil {
			mt := rb.Value.Content.Get("application/json")
			schema := mt.Schema.Value
			bodies := map[string]any{
				"minimal": g.valid(schema, false, 0),
				"full":    g.valid(schema, true, 0),
			}
			if mt.Example != nil {
				bodies["example"] = mt.Example
			}
			for _, name := range sortedKeys(bodies) {
				body := bodies[name]
				out = append(out, base.withBody(op.ID+" "+name, body))
				for _, m := range g.mutations(schema, body, nil, 0) {
					out = append(out, base.withBody(op.ID+" "+name+" "+m.name, m.value))
				}
			}
			for _, raw := range []string{``, ` `, `[]`, `"x"`, `null`, `7`, `{}`, `{"a":`, `{"a":1`, `{"x":1,"x":2}`, "{} \r\n\t"} {
				r := base
				r.name, r.body, r.contentType = op.ID+" raw "+raw, raw, "application/json"
				out = append(out, r)
			}
			// After a body kin-openapi accepts, so that only the trailing data decides.
			valid := base.withBody("", bodies["minimal"])
			for _, tail := range []string{` trailing`, `{}`, ` {"a":1} xyz`, "\x00", ` 7`, `]`, `}`} {
				r := valid
				r.name, r.body = op.ID+" minimal trailing "+tail, valid.body+tail
				r.differs = &trailingData
				out = append(out, r)
			}
		}
		out = append(out, paramRequests(op, base)...)
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodPatch} {
			if m != op.Method {
				r := base
				r.name, r.method = op.ID+" method "+m, m
				out = append(out, r)
			}
		}
	}
	for _, path := range []string{"", "/", "/nope", "/actions", "/actions/music", "/actions/music/generate/", "/jobs/", "/jobs//cancel",
		"/jobs/a/b", "/jobs/a%2Fb", "/jobs/a%2Fb/cancel", "/JOBS", "/jobs-stats/", "/jobs/x/cancel/"} {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			out = append(out, request{name: "route", method: m, target: openapi.BasePath + path, header: http.Header{}})
		}
	}
	return out
}

// fileRequests sends a body of files as each of its media types, as another type, and empty.
func fileRequests(op *openapi.Operation, base request, content openapi3.Content) []request {
	var out []request
	base.file = true
	for _, mt := range sortedKeys(content) {
		r := base
		r.name, r.contentType = op.ID+" "+mt, mt
		if ex, ok := content[mt].Example.(string); ok {
			r.body = ex
		}
		if mt == "application/x-ndjson" {
			r.differs = &ndjsonBody
		}
		out = append(out, r)
	}
	for _, ct := range []string{"application/json", "text/plain", "text/csv; charset=utf-8"} {
		r := base
		r.name, r.contentType, r.body = op.ID+" as "+ct, ct, "date,platform,streams\n2026-01-01,spotify,1\n"
		if !strings.HasPrefix(ct, "text/csv") {
			r.differs = &otherMediaType
		}
		out = append(out, r)
	}
	r := base
	r.name, r.contentType = op.ID+" empty", "text/csv"
	return append(out, r)
}

func (r request) withBody(name string, body any) request {
	raw, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	r.name, r.body, r.contentType = name, string(raw), "application/json"
	return r
}

// paramRequests sends each parameter missing and with valid, invalid and edge values.
func paramRequests(op *openapi.Operation, base request) []request {
	var out []request
	var exampleBody any
	if rb := op.Op.RequestBody; rb != nil && rb.Value.Content.Get("application/json") != nil {
		exampleBody = rb.Value.Content.Get("application/json").Example
	}
	for _, ref := range op.Op.Parameters {
		p := ref.Value
		s := p.Schema.Value
		values := []string{"", " ", "x", "0", "1", "-1", "1.0", "1e2", "1.5", "ten", "true", "null", "%20", "a%2Fb", "a%2541", "é",
			strings.Repeat("k", 50)}
		if s.MaxLength != nil {
			values = append(values, strings.Repeat("k", int(*s.MaxLength)), strings.Repeat("k", int(*s.MaxLength)+1))
		}
		if s.Max != nil {
			values = append(values, fmt.Sprint(*s.Max), fmt.Sprint(*s.Max+1))
		}
		if s.Min != nil {
			values = append(values, fmt.Sprint(*s.Min), fmt.Sprint(*s.Min-1))
		}
		for _, e := range s.Enum {
			values = append(values, fmt.Sprint(e), strings.ToUpper(fmt.Sprint(e)))
		}
		for _, v := range values {
			raw := v
			v = strings.ReplaceAll(url.PathEscape(v), "%25", "%") // keep the escapes the value spells out
			r := base
			r.header = http.Header{}
			if exampleBody != nil {
				r = r.withBody("", exampleBody)
			}
			r.name = fmt.Sprintf("%s %s %s=%q", op.ID, p.In, p.Name, raw)
			switch p.In {
			case openapi3.ParameterInQuery:
				r.target = base.target + "?" + p.Name + "=" + v
				out = append(out, r)
				r2 := r
				r2.name += " repeated"
				r2.target = base.target + "?" + p.Name + "=&" + p.Name + "=" + v + "&" + p.Name + "=zz"
				r2.differs = &repeatedParam
				out = append(out, r2)
			case openapi3.ParameterInHeader:
				r.header = http.Header{http.CanonicalHeaderKey(p.Name): {raw}}
				out = append(out, r)
			case openapi3.ParameterInPath:
				r.target = strings.Replace(openapi.BasePath+op.Path, "{"+p.Name+"}", v, 1)
				out = append(out, r)
			}
		}
		if p.In == openapi3.ParameterInHeader {
			r := base
			if exampleBody != nil {
				r = r.withBody("", exampleBody)
			}
			r.name = op.ID + " header " + p.Name + " sent twice"
			r.header = http.Header{http.CanonicalHeaderKey(p.Name): {"", "k"}}
			out = append(out, r)
		}
	}
	if q := queryNames(op); len(q) > 1 {
		r := base
		r.name = op.ID + " every query parameter wrong"
		parts := make([]string, len(q))
		for i, n := range q {
			parts[i] = n + "=%21%21"
		}
		r.target = base.target + "?" + strings.Join(parts, "&")
		out = append(out, r)
	}
	return out
}

func queryNames(op *openapi.Operation) []string {
	var names []string
	for _, ref := range op.Op.Parameters {
		if ref.Value.In == openapi3.ParameterInQuery {
			names = append(names, ref.Value.Name)
		}
	}
	return names
}

type generator struct {
	op *openapi.Operation
}

// valid makes a value its schema accepts: with every property when full, else the required
// ones alone.
func (g *generator) valid(s *openapi3.Schema, full bool, depth int) any {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch firstType(s) {
	case openapi3.TypeObject:
		m := map[string]any{}
		if depth > 6 {
			return m
		}
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		for _, name := range sortedKeys(s.Properties) {
			if !full && !required[name] {
				continue
			}
			if v, ok := g.validOrSkip(s.Properties[name].Value, full, depth+1); ok {
				m[name] = v
			}
		}
		return m
	case openapi3.TypeArray:
		n := max(int(s.MinItems), 1)
		if s.MaxItems != nil && n > int(*s.MaxItems) {
			n = int(*s.MaxItems)
		}
		var items []any
		for i := 0; i < n; i++ {
			if len(s.Items.Value.Enum) > i {
				items = append(items, s.Items.Value.Enum[i])
				continue
			}
			items = append(items, g.valid(s.Items.Value, full, depth+1))
		}
		return items
	case openapi3.TypeInteger:
		return validNumber(s, 3)
	case openapi3.TypeNumber:
		return validNumber(s, 2.5)
	case openapi3.TypeBoolean:
		return true
	case openapi3.TypeNull:
		return nil
	}
	return validString(s)
}

func (g *generator) validOrSkip(s *openapi3.Schema, full bool, depth int) (any, bool) {
	if s.Pattern != "" && firstType(s) == openapi3.TypeString {
		v := validString(s)
		return v, v != nil
	}
	return g.valid(s, full, depth), true
}

func validNumber(s *openapi3.Schema, fallback float64) any {
	switch {
	case s.Min != nil && s.Max != nil:
		return math.Floor((*s.Min + *s.Max) / 2)
	case s.Min != nil:
		return *s.Min + 1
	case s.Max != nil:
		return *s.Max - 1
	}
	return fallback
}

// stringCandidates are tried against a pattern, the first that matches serves.
var stringCandidates = []string{"A minor", "F# major", "2026-11", "abc", "a_b", "x1"}

func validString(s *openapi3.Schema) any {
	switch s.Format {
	case "uri":
		return "https://cdn.example.com/tracks/a.mp3"
	case "date":
		return "2026-11-28"
	case "date-time":
		return "2026-11-28T18:00:00Z"
	}
	if s.Pattern != "" {
		re := regexp.MustCompile(s.Pattern)
		for _, c := range stringCandidates {
			if re.MatchString(c) {
				return c
			}
		}
		return nil
	}
	n := max(int(s.MinLength), 3)
	if s.MaxLength != nil && n > int(*s.MaxLength) {
		n = int(*s.MaxLength)
	}
	return strings.Repeat("a", n)
}

func firstType(s *openapi3.Schema) string {
	if s.Type == nil {
		return ""
	}
	for _, t := range s.Type.Slice() {
		if t != openapi3.TypeNull {
			return t
		}
	}
	return openapi3.TypeNull
}

type mutation struct {
	name  string
	value any
}

// mutations makes variants of the whole body, each with one change at or below path, where the
// body holds a value of schema s.
func (g *generator) mutations(s *openapi3.Schema, body any, path []any, depth int) []mutation {
	var out []mutation
	cur := getAt(body, path)
	at := pathString(path)
	put := func(name string, v any) {
		out = append(out, mutation{name: at + " " + name, value: setAt(body, path, v)})
	}
	putRaw := func(name, literal string) {
		out = append(out, mutation{name: at + " " + name, value: setAt(body, path, json.RawMessage(literal))})
	}

	put("null", nil)
	for _, w := range []any{"str", json.Number("12"), json.Number("1.5"), true, []any{}, map[string]any{}, []any{"str"}} {
		put(fmt.Sprintf("as %T %v", w, w), w)
	}
	for _, e := range s.Enum {
		put(fmt.Sprintf("enum %v", e), e)
		if str, ok := e.(string); ok {
			put("enum case "+str, strings.ToUpper(str))
			put("enum space "+str, str+" ")
		}
	}
	if len(s.Enum) > 0 {
		put("enum bad", "zz-not-a-value")
	}
	switch firstType(s) {
	case openapi3.TypeInteger, openapi3.TypeNumber:
		for _, b := range []*float64{s.Min, s.Max} {
			if b == nil {
				continue
			}
			for _, d := range []float64{-1, -0.5, 0, 0.5, 1} {
				put(fmt.Sprintf("%g%+g", *b, d), json.Number(fmt.Sprint(*b+d)))
			}
			if *b == math.Trunc(*b) {
				n := int64(*b)
				putRaw(fmt.Sprintf("%d as float literal", n), fmt.Sprintf("%d.0", n))
				putRaw(fmt.Sprintf("%d in exponent form", n), fmt.Sprintf("%de0", n))
				above, below := fmt.Sprintf("%d.00000000000000000001", n), fmt.Sprintf("%d.99999999999999999999", n-1)
				if n <= 0 {
					above, below = fmt.Sprintf("-%d.99999999999999999999", -n-1), fmt.Sprintf("-%d.00000000000000000001", -n)
					if n == 0 {
						above = "0.00000000000000000001"
					}
				}
				putRaw(fmt.Sprintf("%d plus a hair", n), above)
				putRaw(fmt.Sprintf("%d less a hair", n), below)
			}
		}
		for _, lit := range []string{"0", "-0", "1e2", "1E+1", "2.5", "-1", "1e400", "-1e400", "1e-400", "4294967296", "9007199254740993", "1.0000000000000000001"} {
			putRaw("literal "+lit, lit)
		}
	case openapi3.TypeString:
		if s.MinLength > 0 {
			put("shorter than minLength", strings.Repeat("a", int(s.MinLength)-1))
		}
		if s.MaxLength != nil {
			n := int(*s.MaxLength)
			if s.Format == "" && s.Pattern == "" {
				put("at maxLength", strings.Repeat("a", n))
				put("at maxLength in runes", strings.Repeat("é", n))
			}
			put("past maxLength", strings.Repeat("a", n+1))
		}
		put("empty", "")
		switch s.Format {
		case "uri":
			for _, v := range []string{"not a url", "https://", "mailto:a@b.c", "ftp://h/x", "/relative", "https://h/" + strings.Repeat("p", 10)} {
				put("uri "+v, v)
			}
		case "date":
			for _, v := range []string{"2026-02-30", "2026-13-01", "2026-1-1", "2024-02-29", "2026-11-28T00:00:00Z", "20261128"} {
				put("date "+v, v)
			}
		case "date-time":
			for _, v := range []string{"2026-11-28", "2026-11-28T25:00:00Z", "2026-11-28T18:00:00+01:00"} {
				put("date-time "+v, v)
			}
		}
		if s.Pattern != "" {
			for _, v := range append([]string{"H minor", "a minor", "A  minor", "A minor ", "Ab major", "2026-1"}, stringCandidates...) {
				put("pattern "+v, v)
			}
		}
	case openapi3.TypeArray:
		items := s.Items.Value
		one := g.valid(items, true, depth+1)
		put("no items", []any{})
		if s.MaxItems != nil {
			put("past maxItems", repeatDistinct(items, one, int(*s.MaxItems)+1))
			put("at maxItems", repeatDistinct(items, one, int(*s.MaxItems)))
		}
		if s.UniqueItems {
			put("duplicate items", []any{one, one})
		}
		if arr, ok := cur.([]any); ok && len(arr) > 0 && depth < 6 {
			out = append(out, g.mutations(items, body, append(clonePath(path), 0), depth+1)...)
		}
	case openapi3.TypeObject:
		obj, ok := cur.(map[string]any)
		if !ok {
			break
		}
		for _, r := range s.Required {
			m := copyMap(obj)
			delete(m, r)
			put("without "+r, m)
		}
		m := copyMap(obj)
		m["zzUnknown"] = 1
		put("unknown field", m)
		m = copyMap(obj)
		m["Prompt"] = "x"
		put("field name in another case", m)
		if depth < 6 {
			for _, name := range sortedKeys(s.Properties) {
				if _, present := obj[name]; present {
					out = append(out, g.mutations(s.Properties[name].Value, body, append(clonePath(path), name), depth+1)...)
				} else {
					if v, ok := g.validOrSkip(s.Properties[name].Value, true, depth+1); ok {
						m := copyMap(obj)
						m[name] = v
						put("with "+name, m)
					}
				}
			}
		}
	}
	return out
}

// repeatDistinct is n items like one, distinct where the items are strings or enums.
func repeatDistinct(items *openapi3.Schema, one any, n int) []any {
	out := make([]any, n)
	for i := range out {
		switch {
		case i < len(items.Enum):
			out[i] = items.Enum[i]
		case firstType(items) == openapi3.TypeString && items.Format == "" && items.Pattern == "":
			out[i] = fmt.Sprintf("v%d", i)
		default:
			out[i] = one
		}
	}
	return out
}

func getAt(v any, path []any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v
}

// setAt is a copy of root with the value at path replaced by v.
func setAt(root any, path []any, v any) any {
	if len(path) == 0 {
		return v
	}
	switch k := path[0].(type) {
	case string:
		m := copyMap(root.(map[string]any))
		m[k] = setAt(m[k], path[1:], v)
		return m
	case int:
		a := append([]any(nil), root.([]any)...)
		a[k] = setAt(a[k], path[1:], v)
		return a
	}
	panic("bad path")
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func clonePath(p []any) []any { return append([]any(nil), p...) }

func pathString(p []any) string {
	var b strings.Builder
	for _, x := range p {
		fmt.Fprintf(&b, "/%v", x)
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
