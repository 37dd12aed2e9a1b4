// Package modules reaches the AI Dawg modules: the contract they answer on
// (openapi/aidawg.yaml), the router that sends each typed command to the remote backend or to
// the embedded modules, and the embedded modules' runtime.
package modules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
	yaml "go.yaml.in/yaml/v3"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services"
)

const (
	executePath = "/api/v1/jarvis/execute"
	commandsExt = "x-aidawg-commands"
	schemaBase  = "urn:aidawg:contract"
)

// Spec is what the contract says about one command.
type Spec struct {
	Ref
	Params      string // schema name of the params
	Result      string // schema name of the result
	SideEffects bool   // changes something or costs money: never sent twice unless surely not acted on
	Summary     string

	params *jsonschema.Schema
	result *jsonschema.Schema
}

// Contract is the AI Dawg module API, with every schema the router and the embedded modules
// check against compiled once.
type Contract struct {
	specs    map[Ref]*Spec
	ordered  []*Spec
	modules  []string // in the order the contract lists them
	request  *jsonschema.Schema
	response *jsonschema.Schema
	health   *jsonschema.Schema
}

// LoadContract loads the contract embedded in the binary.
func LoadContract() (*Contract, error) { return ParseContract(openapi.AidawgYAML) }

// ParseContract checks doc is a valid OpenAPI document, reads its command list and compiles
// the schemas of the wire and of every command.
func ParseContract(doc []byte) (*Contract, error) {
	if err := ValidateDocument(doc); err != nil {
		return nil, err
	}
	var root struct {
		Paths map[string]map[string]struct {
			Commands []struct {
				Module      string `yaml:"module"`
				Action      string `yaml:"action"`
				Params      string `yaml:"params"`
				Result      string `yaml:"result"`
				SideEffects bool   `yaml:"sideEffects"`
				Summary     string `yaml:"summary"`
			} `yaml:"x-aidawg-commands"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("aidawg contract: %w", err)
	}
	list := root.Paths[executePath]["post"].Commands
	if len(list) == 0 {
		return nil, fmt.Errorf("aidawg contract: POST %s lists no %s", executePath, commandsExt)
	}

	compiler, err := newCompiler(doc)
	if err != nil {
		return nil, err
	}
	compile := func(name string) (*jsonschema.Schema, error) {
		s, err := compiler.Compile(schemaBase + "#/components/schemas/" + name)
		if err != nil {
			return nil, fmt.Errorf("aidawg contract: schema %s: %w", name, err)
		}
		return s, nil
	}

	c := &Contract{specs: map[Ref]*Spec{}}
	for _, item := range list {
		s := &Spec{Ref: Ref{item.Module, item.Action}, Params: item.Params, Result: item.Result,
			SideEffects: item.SideEffects, Summary: item.Summary}
		if s.Module == "" || s.Action == "" {
			return nil, fmt.Errorf("aidawg contract: a command lacks its module or action")
		}
		if _, dup := c.specs[s.Ref]; dup {
			return nil, fmt.Errorf("aidawg contract: %s is listed twice", s.Ref)
		}
		if s.params, err = compile(s.Params); err != nil {
			return nil, err
		}
		if s.result, err = compile(s.Result); err != nil {
			return nil, err
		}
		c.specs[s.Ref] = s
		c.ordered = append(c.ordered, s)
		if !slices.Contains(c.modules, s.Module) {
			c.modules = append(c.modules, s.Module)
		}
	}
	if c.request, err = compile("CommandRequest"); err != nil {
		return nil, err
	}
	if c.response, err = compile("CommandResponse"); err != nil {
		return nil, err
	}
	if c.health, err = compile("DesktopHealth"); err != nil {
		return nil, err
	}
	return c, nil
}

// ValidateDocument checks that doc loads as an OpenAPI document and is valid.
func ValidateDocument(doc []byte) error {
	loaded, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return fmt.Errorf("load aidawg contract: %w", err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		return fmt.Errorf("aidawg contract is invalid: %w", err)
	}
	return nil
}

// newCompiler makes a JSON Schema 2020-12 compiler holding the document, which OpenAPI 3.1's
// schemas are, with formats asserted as the contract means them.
func newCompiler(doc []byte) (*jsonschema.Compiler, error) {
	var tree any
	if err := yaml.Unmarshal(doc, &tree); err != nil {
		return nil, fmt.Errorf("aidawg contract: %w", err)
	}
	// Through JSON, so that numbers and maps take the types the compiler expects.
	raw, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("aidawg contract: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("aidawg contract: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaBase, v); err != nil {
		return nil, fmt.Errorf("aidawg contract: %w", err)
	}
	return c, nil
}

// Spec finds a command; ok is false when the contract does not list it.
func (c *Contract) Spec(ref Ref) (*Spec, bool) {
	s, ok := c.specs[ref]
	return s, ok
}

// Commands lists every command in contract order.
func (c *Contract) Commands() []*Spec { return c.ordered }

// Modules lists the modules in contract order.
func (c *Contract) Modules() []string { return c.modules }

// HasModule reports whether the contract has any command of module.
func (c *Contract) HasModule(module string) bool { return slices.Contains(c.modules, module) }

// decode parses JSON for validation, keeping numbers exact.
func decode(raw []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

// describe turns a validation error into one line naming the first fields at fault.
func describe(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var fields []services.FieldError
	services.JSONSchemaFieldErrors(ve, &fields)
	parts := make([]string, 0, len(fields))
	for i, f := range fields {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(fields)-3))
			break
		}
		name := f.Field
		if name == "" {
			name = "(root)"
		}
		parts = append(parts, name+" "+f.Message)
	}
	return strings.Join(parts, "; ")
}
