package reqvalidate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aidawg/jarvis/middleware/problem"
	"github.com/aidawg/jarvis/services"
)

// Params gives the path parameters the router matched, as Echo's context does: escaped as in
// the request when its path has escapes decoding would lose (URL.RawPath is set), decoded
// otherwise.
type Params interface {
	Param(name string) string
}

// Check validates req against the operation. On success the defaults of parameters that were
// not sent are written into the request as kin-openapi writes them, and req.Body reads the body
// as sent and carries, through ValidatedValue, the value it was validated as, with the schema's
// defaults filled in; the handler binds that value instead of decoding the body again.
// Otherwise the error is a *services.Error naming every field at fault, or the body's read
// error (such as Echo's 413) as its cause.
func (op *Operation) Check(req *http.Request, path Params) error {
	var fields []services.FieldError
	var query url.Values
	if op.query {
		query = req.URL.Query()
	}
	for _, p := range op.params {
		p.check(req, path, query, &fields)
	}

	b := op.body
	if b == nil {
		return invalid(fields)
	}
	if b.stream {
		ct := req.Header.Get("Content-Type")
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case req.ContentLength == 0 && b.required:
			fields = append(fields, services.FieldError{Field: "", Message: "is required but missing"})
		case err != nil || b.content.Get(mt) == nil:
			return &services.Error{Code: services.CodeUnsupportedMedia, Detail: "The body is " + strconv.Quote(ct) +
				". Send the file as " + strings.Join(sortedMediaTypes(b.content), " or ") + "."}
		}
		if len(fields) == 0 {
			req.Body = &StreamBody{ReadCloser: req.Body, mediaType: mt}
		}
		return invalid(fields)
	}
	data, err := ReadBody(req)
	if err != nil {
		return err
	}
	var value any
	var vb *Body // set once the body is decoded
	switch {
	case len(data) == 0:
		if b.required {
			fields = append(fields, services.FieldError{Field: "", Message: "is required but missing"})
		}
	case b.content == nil:
	case b.content.Get(req.Header.Get("Content-Type")) == nil:
		fields = append(fields, services.FieldError{Field: "",
			Message: "header Content-Type has unexpected value " + strconv.Quote(req.Header.Get("Content-Type"))})
	case b.schema != nil:
		vb = NewBody(data)
		if value, err = decodeJSON(vb); err != nil {
			return &services.Error{Code: problem.CodeMalformedJSON, Err: err,
				Detail: "The body is not valid JSON. Send a JSON object as the contract describes.",
				Fields: []services.FieldError{{Field: "", Message: "not valid JSON"}}}
		}
		bodyText(data, value, &fields)
		b.defaults.apply(value, b.kin30)
		checked := value
		if b.kin30 {
			checked = asKin30Sees(value)
		}
		if err := b.schema.Validate(checked); err != nil {
			schemaFields("", err, &fields)
		}
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	switch {
	case vb != nil:
		integersAsIntegers(value)
		vb.value = value
		vb.Reset(data)
		req.Body = vb
	case data != nil:
		req.Body = io.NopCloser(bytes.NewReader(data))
	}
	if data != nil {
		req.ContentLength = int64(len(data))
	}
	return nil
}

func sortedMediaTypes(c openapi3.Content) []string {
	out := make([]string, 0, len(c))
	for mt := range c {
		out = append(out, mt)
	}
	sort.Strings(out)
	return out
}

// StreamBody is a body of text files read as it arrives, with the media type validation
// accepted it as, which is how a handler tells the file's format.
type StreamBody struct {
	io.ReadCloser
	mediaType string
}

// MediaType is the body's Content-Type without its parameters.
func (b *StreamBody) MediaType() string { return b.mediaType }

// Body is a request body held in memory. It reads as sent; once validated it also carries, as
// kin-openapi's KeepValidatedValue body does, the value it was validated as. A layer that reads
// the body before validation hands it on as a Body, so that validation takes the bytes instead
// of reading them again.
type Body struct {
	bytes.Reader
	data  []byte
	value any
}

// NewBody is a body that reads data.
func NewBody(data []byte) *Body {
	b := &Body{data: data}
	b.Reset(data)
	return b
}

// Close does nothing: the body is in memory.
func (*Body) Close() error { return nil }

// ValidatedValue is the body as validated, with the schema's defaults filled in, or nil before
// validation.
func (b *Body) ValidatedValue() any { return b.value }

// ReadBody reads the rest of req's body. A Body's bytes are returned as they are, not copied.
// A body that breaks off is the caller's doing: the error is a *services.Error with the read
// error as its cause, or Echo's 413 for a body over the limit.
func ReadBody(req *http.Request) ([]byte, error) {
	if b, ok := req.Body.(*Body); ok {
		rest := b.data[len(b.data)-b.Len():]
		b.Reset(nil)
		return rest, nil
	}
	data, err := readBody(req)
	if err != nil {
		return nil, unreadBody(err)
	}
	return data, nil
}

func unreadBody(err error) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return err
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return &services.Error{Code: services.CodeValidation, Err: err,
			Detail: "The body did not arrive in the time allowed; it is shorter than its Content-Length says. Send the whole body, with a Content-Length that matches it.",
			Fields: []services.FieldError{{Field: "", Message: "did not arrive in time"}}}
	}
	return &services.Error{Code: services.CodeValidation, Err: err,
		Detail: "The body ended before the length its Content-Length gives, or could not be read. Send the whole body, with a Content-Length that matches it.",
		Fields: []services.FieldError{{Field: "", Message: "ended early or could not be read"}}}
}

func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	hint := req.ContentLength
	if hint < 0 || hint > 1<<20 {
		hint = 512
	}
	// One byte over the declared length lets the last read see EOF without growing the buffer.
	buf := make([]byte, 0, hint+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := req.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// decodeJSON decodes b, read from its start, as one JSON value, with numbers kept as
// json.Number. Unlike kin-openapi, which decodes the first value and ignores the rest,
// anything but white space after the value makes it malformed: what follows would otherwise
// be dropped unseen.
func decodeJSON(b *Body) (any, error) {
	dec := json.NewDecoder(&b.Reader)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if rest := b.data[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return nil, errTrailingData
	}
	return v, nil
}

var errTrailingData = errors.New("data after the JSON value")

func (p *param) check(req *http.Request, path Params, query url.Values, out *[]services.FieldError) {
	var raw string
	var found, sent bool
	switch p.in {
	case openapi3.ParameterInPath:
		raw = path.Param(p.name)
		if raw != "" && req.URL.RawPath != "" {
			if u, err := url.PathUnescape(raw); err == nil {
				raw = u
			}
		}
		found, sent = raw != "", raw != ""
	case openapi3.ParameterInQuery:
		values, ok := query[p.name]
		found, sent = ok, len(values) > 0
		if sent {
			raw = firstNonEmpty(values)
		}
	case openapi3.ParameterInHeader:
		values, ok := req.Header[p.header]
		found, sent = ok, len(values) > 0
		if sent {
			raw = values[0]
		}
	}

	// Every value sent is checked, not only the one validated, since each may reach a store.
	msg := BadText(raw)
	switch p.in {
	case openapi3.ParameterInQuery:
		msg = badTexts(query[p.name])
		// kin-openapi validates the first non-empty value alone, and the generated binder
		// refuses a repeated single-valued parameter anyway, naming no field.
		if msg == "" && len(query[p.name]) > 1 {
			msg = "is given more than once; send it once"
		}
	case openapi3.ParameterInHeader:
		msg = badTexts(req.Header[p.header])
	}
	if msg != "" {
		*out = append(*out, services.FieldError{Field: p.field, Message: msg})
		return
	}

	var value any
	if sent {
		v, err := p.parse(raw)
		if err != nil {
			*out = append(*out, services.FieldError{Field: p.field, Message: "is not a valid " + p.types[0]})
			return
		}
		value = v
	}
	if value == nil && (!found || p.allowEmpty) && p.dflt != nil {
		value = p.dflt
		switch p.in {
		case openapi3.ParameterInQuery:
			q := req.URL.Query()
			q.Del(p.name)
			q.Add(p.name, p.dfltText)
			req.URL.RawQuery = q.Encode()
		case openapi3.ParameterInHeader:
			req.Header.Add(p.header, p.dfltText)
		}
	}
	if p.required && !found {
		*out = append(*out, services.FieldError{Field: p.field, Message: "is required but missing"})
		return
	}
	if value == nil {
		if found && !p.allowEmpty {
			*out = append(*out, services.FieldError{Field: p.field, Message: "empty value is not allowed"})
		}
		return
	}
	if s, ok := value.(string); ok && s == "" && p.allowEmpty {
		return
	}
	if err := p.schema.Validate(value); err != nil {
		schemaFields(p.field, err, out)
	}
}

// integersAsIntegers rewrites the numbers of a validated value that are integers written with
// a fraction or an exponent (5.0, 5e0, 0.5e1), which JSON Schema takes as integers, as plain
// integers, which is what the handler's integer fields bind; a number field binds either alike.
func integersAsIntegers(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, m := range v {
			if n, ok := m.(json.Number); ok {
				if i, ok := plainInteger(n); ok {
					v[k] = i
				}
				continue
			}
			integersAsIntegers(m)
		}
	case []any:
		for i, m := range v {
			if n, ok := m.(json.Number); ok {
				if p, ok := plainInteger(n); ok {
					v[i] = p
				}
				continue
			}
			integersAsIntegers(m)
		}
	}
}

// plainInteger is n without fraction or exponent, when n is an integer of at most 19 digits
// written with either; the value is exact, as n's decimal digits are kept, not a float's.
func plainInteger(n json.Number) (json.Number, bool) {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		return "", false
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 40 || e < -40 {
			return "", false
		}
		mant, exp = s[:i], e
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits := whole + frac
	exp -= len(frac)
	if exp < 0 {
		cut := len(digits) + exp
		if cut < 0 {
			cut = 0
		}
		if strings.Trim(digits[cut:], "0") != "" {
			return "", false // a fraction
		}
		digits = digits[:cut]
	} else {
		digits += strings.Repeat("0", exp)
	}
	digits = strings.TrimLeft(digits, "0")
	switch {
	case digits == "":
		return "0", true
	case len(digits) > 19:
		return "", false
	case neg:
		return json.Number("-" + digits), true
	}
	return json.Number(digits), true
}

func badTexts(values []string) string {
	for _, v := range values {
		if msg := BadText(v); msg != "" {
			return msg
		}
	}
	return ""
}

// firstNonEmpty is the value kin-openapi takes of a repeated query parameter.
func firstNonEmpty(values []string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return values[0]
}

// parse reads a raw parameter value as the first of its types it parses as; an empty value is
// no value unless a string is allowed first.
func (p *param) parse(raw string) (any, error) {
	var err error
	for _, t := range p.types {
		if raw == "" && t != openapi3.TypeString {
			return nil, nil
		}
		var v any
		if v, err = parseAs(raw, t, p.int32); err == nil {
			return v, nil
		}
	}
	return nil, err
}

var errNotPrimitive = errors.New("not a primitive type")

func parseAs(raw, typ string, int32bits bool) (any, error) {
	switch typ {
	case openapi3.TypeInteger:
		if int32bits {
			v, err := strconv.ParseInt(raw, 10, 32)
			return int32(v), err
		}
		return strconv.ParseInt(raw, 10, 64)
	case openapi3.TypeNumber:
		// ParseFloat also takes Go's hexadecimal, underscored, infinite and NaN literals.
		if strings.ContainsFunc(raw, func(r rune) bool { return !strings.ContainsRune("+-.0123456789eE", r) }) {
			return nil, strconv.ErrSyntax
		}
		return strconv.ParseFloat(raw, 64)
	case openapi3.TypeBoolean:
		return strconv.ParseBool(raw)
	case openapi3.TypeString:
		return raw, nil
	}
	return nil, errNotPrimitive
}

func invalid(fields []services.FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	return &services.Error{Code: services.CodeValidation, Fields: fields, Detail: describeFields(fields)}
}

func describeFields(fields []services.FieldError) string {
	var b strings.Builder
	b.WriteString("The request does not match the contract: ")
	for i, f := range fields {
		if i == 5 {
			b.WriteString("; and more, listed in errors")
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		name := f.Field
		if name == "" {
			name = "body"
		}
		b.WriteString(name)
		b.WriteString(" ")
		b.WriteString(f.Message)
	}
	b.WriteString(". Correct these fields and call again.")
	return b.String()
}

func schemaFields(prefix string, err error, out *[]services.FieldError) {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		*out = append(*out, services.FieldError{Field: prefix, Message: err.Error()})
		return
	}
	services.JSONSchemaFieldErrorsAt(prefix, ve, out)
}
