package reqvalidate

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// kin-openapi v0.153 checks a request body of a 3.1 document in one of two ways. A schema that
// references components and uses none of the keywords new in JSON Schema 2020-12 goes to its
// OpenAPI 3.0 visitor; any other goes to a JSON Schema 2020-12 validator compiled for the call.
// Both agree on most inputs; where they do not, the 3.0 visitor:
//
//   - fills a property's default in when the property is missing or null, before checking, so a
//     null there is accepted; the 2020-12 path fills no defaults in at all;
//   - compares numbers as float64, so a literal finer than float64 is checked as the float64 it
//     rounds to, and a literal beyond float64's range is refused wherever a schema applies.
//
// This package checks every schema with JSON Schema 2020-12 and reproduces those two answers for
// the schemas kin-openapi sends to its 3.0 visitor. It fills defaults of missing properties in
// for every schema: the handlers rely on them, and a default always satisfies its schema.

// checkedByKin30Visitor reports whether kin-openapi sends a body schema to its 3.0 visitor.
func checkedByKin30Visitor(s *openapi3.Schema) (bool, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return false, err
	}
	if !strings.Contains(string(raw), `"$ref":"`+componentPrefix) {
		return false, nil
	}
	uses2020 := false
	walkSchemas(s, map[*openapi3.Schema]bool{}, func(s *openapi3.Schema) {
		uses2020 = uses2020 || s.Const != nil || len(s.PrefixItems) != 0 || s.Contains != nil ||
			len(s.PatternProperties) != 0 || len(s.DependentSchemas) != 0 || s.PropertyNames != nil ||
			s.UnevaluatedItems.Has != nil || s.UnevaluatedItems.Schema != nil ||
			s.UnevaluatedProperties.Has != nil || s.UnevaluatedProperties.Schema != nil ||
			s.If != nil || s.Then != nil || s.Else != nil ||
			len(s.DependentRequired) != 0 || len(s.Defs) != 0 || s.ContentSchema != nil
	})
	return !uses2020, nil
}

// defaults says where defaults go in a body: properties of this object that have one, and the
// properties and items below that hold some.
type defaults struct {
	set   []propertyDefault
	props map[string]*defaults
	items *defaults
}

type propertyDefault struct {
	name  string
	value any
}

// buildDefaults plans the defaults of s. Defaults under oneOf, anyOf or allOf are refused for
// schemas of kin-openapi's 3.0 visitor, which fills them in by rules of its own.
func buildDefaults(s *openapi3.Schema, kin30 bool) (*defaults, error) {
	return planDefaults(s, kin30, map[*openapi3.Schema]*defaults{})
}

func planDefaults(s *openapi3.Schema, kin30 bool, seen map[*openapi3.Schema]*defaults) (*defaults, error) {
	if s == nil {
		return nil, nil
	}
	if d, ok := seen[s]; ok {
		return d, nil
	}
	d := &defaults{}
	seen[s] = d
	if kin30 {
		for _, refs := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf, s.AllOf} {
			for _, r := range refs {
				if hasDefault(r.Value) {
					return nil, errors.New("defaults under oneOf, anyOf or allOf are not supported")
				}
			}
		}
	}
	for _, name := range sortedNames(s.Properties) {
		p := s.Properties[name].Value
		if p == nil {
			continue
		}
		if p.Default != nil {
			d.set = append(d.set, propertyDefault{name: name, value: p.Default})
		}
		sub, err := planDefaults(p, kin30, seen)
		if err != nil {
			return nil, err
		}
		if sub != nil {
			if d.props == nil {
				d.props = map[string]*defaults{}
			}
			d.props[name] = sub
		}
	}
	if s.Items != nil {
		sub, err := planDefaults(s.Items.Value, kin30, seen)
		if err != nil {
			return nil, err
		}
		d.items = sub
	}
	if len(d.set) == 0 && len(d.props) == 0 && d.items == nil {
		delete(seen, s)
		return nil, nil
	}
	return d, nil
}

func hasDefault(s *openapi3.Schema) bool {
	found := false
	walkSchemas(s, map[*openapi3.Schema]bool{}, func(s *openapi3.Schema) {
		found = found || s.Default != nil
	})
	return found
}

func sortedNames(m openapi3.Schemas) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// apply fills the defaults in v; with orNull, a null property is replaced too.
func (d *defaults) apply(v any, orNull bool) {
	if d == nil {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		for _, pd := range d.set {
			if cur, ok := v[pd.name]; !ok || (orNull && cur == nil) {
				v[pd.name] = copyJSON(pd.value)
			}
		}
		for name, sub := range d.props {
			if pv, ok := v[name]; ok {
				sub.apply(pv, orNull)
			}
		}
	case []any:
		if d.items != nil {
			for _, item := range v {
				d.items.apply(item, orNull)
			}
		}
	}
}

// copyJSON copies the containers of a JSON value, so that no request shares them; scalars are
// immutable and shared.
func copyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = copyJSON(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = copyJSON(x)
		}
		return out
	}
	return v
}

// unrepresentable stands, in the copy a body is checked as, for a number beyond float64's
// range. It is no JSON type, so every schema but true refuses it, as kin-openapi's 3.0 visitor
// refuses such a number wherever a schema applies.
type unrepresentable string

// asKin30Sees is v with each number as kin-openapi's 3.0 visitor compares it: the float64 it
// reads as. v itself is returned, not copied, when every number already reads exactly so.
func asKin30Sees(v any) any {
	if !hasInexactNumber(v) {
		return v
	}
	return float64Copy(v)
}

func hasInexactNumber(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			if hasInexactNumber(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasInexactNumber(x) {
				return true
			}
		}
	case json.Number:
		_, exact := float64Literal(v)
		return !exact
	}
	return false
}

func float64Copy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = float64Copy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = float64Copy(x)
		}
		return out
	case json.Number:
		lit, exact := float64Literal(v)
		if exact {
			return v
		}
		if lit == "" {
			return unrepresentable(v)
		}
		return json.Number(lit)
	}
	return v
}

// float64Literal is the shortest literal of the float64 n reads as, and whether n already is
// that literal; "" when n is beyond float64's range. The shortest literal lies within the
// float64's rounding interval, so it compares with every other float64 as the float64 does.
func float64Literal(n json.Number) (string, bool) {
	s := string(n)
	if len(s) <= 15 && isPlainInteger(s) {
		return s, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", false
	}
	var buf [32]byte
	lit := strconv.AppendFloat(buf[:0], f, 'g', -1, 64)
	if string(lit) == s {
		return s, true
	}
	return string(lit), false
}

func isPlainInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
