// Package reqvalidate checks requests against the contract. Every schema a request is checked
// with, of bodies and of parameters, is compiled once at start as JSON Schema 2020-12
// (santhosh-tekuri/jsonschema); a request only has its parameters parsed and its body decoded
// and validated.
//
// The verdicts are kin-openapi v0.153's (openapi3filter.ValidateRequest on the 3.1 contract),
// which the contract was enforced with before; a differential test holds the two to the same
// answers. Where kin-openapi's answer depends on how it validates a schema, this package
// follows it: see kinmode.go.
package reqvalidate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aidawg/jarvis/openapi"
)

// Validator holds the compiled request rules of every operation of the contract.
type Validator struct {
	ops   map[route]*Operation
	byID  map[string]*Operation
	paths [][]string // the Echo paths of the contract by segment, to tell a wrong method from a wrong path
}

type route struct{ method, path string }

// Operation is one operation's compiled request rules.
type Operation struct {
	ID     string
	params []*param
	body   *body
	query  bool // some parameter is in the query
}

type param struct {
	name       string
	in         string
	header     string // canonical header key, for header parameters
	field      string // as errors name it, such as query:limit
	required   bool
	allowEmpty bool
	types      []string // a raw value is parsed as each in turn, as kin-openapi does
	int32      bool     // an integer of format int32 must fit 32 bits
	dflt       any
	dfltText   string
	schema     *jsonschema.Schema
}

type body struct {
	required bool
	content  openapi3.Content
	schema   *jsonschema.Schema
	defaults *defaults
	kin30    bool // kin-openapi checks this schema with its OpenAPI 3.0 visitor; see kinmode.go
	// stream is a body of text files (CSV, JSON Lines) that the handler reads as it arrives:
	// only its content type is checked here, so that a large file is never held in memory.
	stream bool
	// fields are the body's top-level fields, each compiled alone, for checking a value meant
	// for one field (a user's default params) without a whole request.
	fields        map[string]*jsonschema.Schema
	fieldRequired map[string]bool
	fieldSlots    []fieldSlot
}

// contractURL names the JSON Schema document compiled from the contract; nothing is fetched.
const contractURL = "urn:jarvis:contract"

// New compiles the request rules of every operation of spec. It fails on a construct it does
// not check the way kin-openapi does, so that no rule of the contract goes unenforced.
func New(spec *openapi.Spec) (*Validator, error) {
	doc := spec.Doc
	defs := map[string]any{}
	if doc.Components != nil {
		for name, ref := range doc.Components.Schemas {
			v, err := schemaJSON(ref.Value)
			if err != nil {
				return nil, fmt.Errorf("schema %s: %w", name, err)
			}
			defs[name] = v
		}
	}

	type pending struct {
		loc  string
		into **jsonschema.Schema
	}
	var toCompile []pending
	addDef := func(name string, s *openapi3.Schema, into **jsonschema.Schema) error {
		v, err := schemaJSON(s)
		if err != nil {
			return err
		}
		defs[name] = v
		toCompile = append(toCompile, pending{contractURL + "#/$defs/" + escapePointer(name), into})
		return nil
	}

	formats := map[string]bool{}
	val := &Validator{ops: map[route]*Operation{}, byID: map[string]*Operation{}}
	for _, o := range spec.Operations {
		op := &Operation{ID: o.ID}
		params, err := operationParameters(doc.Paths.Value(o.Path), o.Op)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.ID, err)
		}
		for _, p := range params {
			cp, err := compileParam(p)
			if err != nil {
				return nil, fmt.Errorf("%s: parameter %s %s: %w", o.ID, p.In, p.Name, err)
			}
			collectFormats(p.Schema.Value, formats, map[*openapi3.Schema]bool{})
			if err := addDef(o.ID+" "+p.In+" "+p.Name, p.Schema.Value, &cp.schema); err != nil {
				return nil, fmt.Errorf("%s: parameter %s: %w", o.ID, p.Name, err)
			}
			op.query = op.query || p.In == openapi3.ParameterInQuery
			op.params = append(op.params, cp)
		}
		if rb := o.Op.RequestBody; rb != nil && rb.Value != nil {
			b, schema, err := compileBody(rb.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: request body: %w", o.ID, err)
			}
			if schema != nil {
				collectFormats(schema, formats, map[*openapi3.Schema]bool{})
				if err := addDef(o.ID+" body", schema, &b.schema); err != nil {
					return nil, fmt.Errorf("%s: request body: %w", o.ID, err)
				}
				b.fields, b.fieldRequired = map[string]*jsonschema.Schema{}, map[string]bool{}
				for _, name := range schema.Required {
					b.fieldRequired[name] = true
				}
				for name, prop := range schema.Properties {
					if prop == nil || prop.Value == nil {
						continue
					}
					into := new(*jsonschema.Schema)
					if err := addDef(o.ID+" body field "+name, prop.Value, into); err != nil {
						return nil, fmt.Errorf("%s: request body field %s: %w", o.ID, name, err)
					}
					b.fieldSlots = append(b.fieldSlots, fieldSlot{name, into})
				}
			}
			op.body = b
		}
		val.ops[route{o.Method, o.EchoPath}] = op
		val.byID[o.ID] = op
		val.paths = append(val.paths, strings.Split(o.EchoPath, "/"))
	}

	rewriteRefs(defs)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	registerFormats(c, formats)
	if err := c.AddResource(contractURL, map[string]any{"$defs": defs}); err != nil {
		return nil, fmt.Errorf("load the contract's schemas: %w", err)
	}
	for _, p := range toCompile {
		s, err := c.Compile(p.loc)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", p.loc, err)
		}
		*p.into = s
	}
	for _, op := range val.ops {
		if op.body == nil {
			continue
		}
		for _, f := range op.body.fieldSlots {
			op.body.fields[f.name] = *f.schema
		}
		op.body.fieldSlots = nil
	}
	return val, nil
}

// fieldSlot is where a body field's schema lands once compiled.
type fieldSlot struct {
	name   string
	schema **jsonschema.Schema
}

// ByID finds an operation by its operationId.
func (v *Validator) ByID(id string) (*Operation, bool) {
	op, ok := v.byID[id]
	return op, ok
}

// BodyField reports whether name is a top-level field of the operation's body, and whether
// the body requires it.
func (op *Operation) BodyField(name string) (known, required bool) {
	if op.body == nil {
		return false, false
	}
	_, known = op.body.fields[name]
	return known, op.body.fieldRequired[name]
}

// CheckBodyField checks a value meant for the body's top-level field name against that field's
// schema, with numbers as the wire would carry them.
func (op *Operation) CheckBodyField(name string, value any) error {
	if op.body == nil || op.body.fields[name] == nil {
		return fmt.Errorf("%s is not a field of %s's body", name, op.ID)
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	v, err := decodeJSON(NewBody(raw))
	if err != nil {
		return err
	}
	return op.body.fields[name].Validate(v)
}

// Operation finds the operation routed at method and Echo path.
func (v *Validator) Operation(method, echoPath string) (*Operation, bool) {
	op, ok := v.ops[route{method, echoPath}]
	return op, ok
}

// HasPath reports whether an operation, with whatever method, is at urlPath (escaped, as
// echo.GetPath gives it).
func (v *Validator) HasPath(urlPath string) bool {
	segments := strings.Split(urlPath, "/")
	for _, p := range v.paths {
		if matchSegments(p, segments) {
			return true
		}
	}
	return false
}

func matchSegments(template, segments []string) bool {
	if len(template) != len(segments) {
		return false
	}
	for i, t := range template {
		if strings.HasPrefix(t, ":") {
			if segments[i] == "" {
				return false
			}
		} else if t != segments[i] {
			return false
		}
	}
	return true
}

// HasBody reports whether the operation takes a request body.
func (op *Operation) HasBody() bool { return op.body != nil }

// HasJSONBody reports whether the operation's body is JSON, rather than files it streams.
func (op *Operation) HasJSONBody() bool { return op.body != nil && !op.body.stream }

// operationParameters lists the parameters kin-openapi checks, in its order: the path item's
// that the operation does not override, then the operation's.
func operationParameters(item *openapi3.PathItem, op *openapi3.Operation) ([]*openapi3.Parameter, error) {
	var out []*openapi3.Parameter
	for _, ref := range item.Parameters {
		p := ref.Value
		if op.Parameters.GetByInAndName(p.In, p.Name) == nil {
			out = append(out, p)
		}
	}
	for _, ref := range op.Parameters {
		out = append(out, ref.Value)
	}
	for _, p := range out {
		if p == nil {
			return nil, errors.New("unresolved parameter")
		}
	}
	return out, nil
}

func compileParam(p *openapi3.Parameter) (*param, error) {
	if p.Content != nil || p.Schema == nil || p.Schema.Value == nil {
		return nil, errors.New("only parameters with a schema are supported")
	}
	switch p.In {
	case openapi3.ParameterInPath, openapi3.ParameterInQuery, openapi3.ParameterInHeader:
	default:
		return nil, fmt.Errorf("parameters in %s are not supported", p.In)
	}
	if p.Style != "" || p.Explode != nil {
		return nil, errors.New("only the default style is supported")
	}
	s := p.Schema.Value
	if len(s.AllOf)+len(s.AnyOf)+len(s.OneOf) > 0 || s.Not != nil || s.Type == nil || len(s.Type.Slice()) == 0 {
		return nil, errors.New("only parameters of a plain primitive type are supported")
	}
	for _, t := range s.Type.Slice() {
		if t == openapi3.TypeArray || t == openapi3.TypeObject {
			return nil, errors.New("only parameters of a primitive type are supported")
		}
	}
	cp := &param{
		name:       p.Name,
		in:         p.In,
		field:      p.In + ":" + p.Name,
		required:   p.Required,
		allowEmpty: p.AllowEmptyValue,
		types:      s.Type.Slice(),
		int32:      s.Format == "int32",
		dflt:       s.Default,
	}
	if p.In == openapi3.ParameterInHeader {
		cp.header = http.CanonicalHeaderKey(p.Name)
	}
	if s.Default != nil {
		cp.dfltText = fmt.Sprint(s.Default)
	}
	return cp, nil
}

func compileBody(rb *openapi3.RequestBody) (*body, *openapi3.Schema, error) {
	b := &body{required: rb.Required}
	if len(rb.Content) == 0 {
		return b, nil, nil
	}
	if streamed(rb.Content) {
		b.content, b.stream = rb.Content, true
		return b, nil, nil
	}
	if len(rb.Content) != 1 || rb.Content.Get(jsonMediaType) == nil {
		return nil, nil, errors.New("only a request body of application/json alone, or of text media types with string schemas, is supported")
	}
	b.content = rb.Content
	mt := rb.Content.Get(jsonMediaType)
	if mt.Schema == nil || mt.Schema.Value == nil {
		return b, nil, nil
	}
	s := mt.Schema.Value
	kin30, err := checkedByKin30Visitor(s)
	if err != nil {
		return nil, nil, err
	}
	b.kin30 = kin30
	if b.defaults, err = buildDefaults(s, kin30); err != nil {
		return nil, nil, err
	}
	return b, s, nil
}

const jsonMediaType = "application/json"

// streamed reports whether every media type of a body is a text file format with a plain
// string schema, such as text/csv and application/x-ndjson.
func streamed(content openapi3.Content) bool {
	for mt, m := range content {
		if mt == jsonMediaType || m.Schema == nil || m.Schema.Value == nil || !m.Schema.Value.Type.Is("string") {
			return false
		}
	}
	return len(content) > 0
}

// schemaJSON is the schema as kin-openapi hands it to the JSON Schema validator: its JSON form,
// with references to components left in place.
func schemaJSON(s *openapi3.Schema) (any, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

const componentPrefix = "#/components/schemas/"

// rewriteRefs points references to components at their copies under $defs.
func rewriteRefs(node any) {
	switch n := node.(type) {
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok && strings.HasPrefix(ref, componentPrefix) {
			n["$ref"] = "#/$defs/" + strings.TrimPrefix(ref, componentPrefix)
		}
		for _, v := range n {
			rewriteRefs(v)
		}
	case []any:
		for _, v := range n {
			rewriteRefs(v)
		}
	}
}

func escapePointer(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

func collectFormats(s *openapi3.Schema, into map[string]bool, seen map[*openapi3.Schema]bool) {
	walkSchemas(s, seen, func(s *openapi3.Schema) {
		if s.Format != "" {
			into[s.Format] = true
		}
	})
}

// walkSchemas calls fn on s and every schema below it, once each.
func walkSchemas(s *openapi3.Schema, seen map[*openapi3.Schema]bool, fn func(*openapi3.Schema)) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	fn(s)
	refs := []*openapi3.SchemaRef{s.Not, s.Items, s.AdditionalProperties.Schema, s.Contains, s.PropertyNames,
		s.UnevaluatedItems.Schema, s.UnevaluatedProperties.Schema, s.If, s.Then, s.Else, s.ContentSchema}
	refs = append(refs, s.OneOf...)
	refs = append(refs, s.AnyOf...)
	refs = append(refs, s.AllOf...)
	refs = append(refs, s.PrefixItems...)
	for _, m := range []openapi3.Schemas{s.Properties, s.PatternProperties, s.DependentSchemas, s.Defs} {
		names := make([]string, 0, len(m))
		for name := range m {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			refs = append(refs, m[name])
		}
	}
	for _, r := range refs {
		if r != nil {
			walkSchemas(r.Value, seen, fn)
		}
	}
}

// registerFormats makes each format the contract names check what kin-openapi checks for it:
// the contract's own string formats first, then kin-openapi's, and anything else passes.
func registerFormats(c *jsonschema.Compiler, names map[string]bool) {
	own := openapi.StringFormats()
	for name := range names {
		c.RegisterFormat(&jsonschema.Format{Name: name, Validate: formatCheck(name, own[name])})
	}
	c.AssertFormat()
}

func formatCheck(name string, own func(string) error) func(any) error {
	return func(v any) error {
		switch v := v.(type) {
		case string:
			if own != nil {
				return own(v)
			}
			if f, ok := openapi3.SchemaStringFormats[name]; ok {
				return f.Validate(v)
			}
			return nil
		case json.Number:
			f, err := v.Float64()
			if err != nil {
				return nil
			}
			return numberFormat(name, f)
		case float64:
			return numberFormat(name, v)
		case int64:
			return numberFormat(name, float64(v))
		case int32:
			return numberFormat(name, float64(v))
		}
		return nil
	}
}

func numberFormat(name string, f float64) error {
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		if v, ok := openapi3.SchemaIntegerFormats[name]; ok {
			switch {
			case f == float64(math.MaxInt64):
				return v.Validate(math.MaxInt64)
			case f >= float64(math.MinInt64) && f < float64(math.MaxInt64):
				return v.Validate(int64(f))
			default:
				return fmt.Errorf("value should be between %d and %d", int64(math.MinInt64), int64(math.MaxInt64))
			}
		}
	}
	if v, ok := openapi3.SchemaNumberFormats[name]; ok {
		return v.Validate(f)
	}
	return nil
}
