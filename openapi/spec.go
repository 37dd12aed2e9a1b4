// The public contract, loaded once: the served copies of the document, and which operation a
// route is.
package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v3"
)

// BasePath is where the operations are mounted, kept from the system Jarvis replaced so that
// existing GPT configurations keep working.
const BasePath = "/integrations/chatgpt"

// Operation is what the rest of the server needs to know about one operation of the contract.
type Operation struct {
	ID            string
	Method        string
	Path          string // as in the contract, such as /jobs/{jobId}
	EchoPath      string // as Echo routes it, such as /integrations/chatgpt/jobs/:jobId
	Module        string // the operation's first tag
	Summary       string
	Description   string
	Consequential bool
	Long          bool
	ScopeOverride string // x-jarvis-scope: the scope the operation needs whatever its module
	HasBody       bool
	Op            *openapi3.Operation
}

// Spec is the loaded contract.
type Spec struct {
	Doc        *openapi3.T
	Operations []*Operation // in path order
	byID       map[string]*Operation
	byRoute    map[route]*Operation
}

type route struct{ method, echoPath string }

// LoadDoc parses the contract as written. oapi-codegen's embedded copy is not used because
// it renames the operationIds, which callers and tools name operations by.
func LoadDoc() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(JarvisYAML)
	if err != nil {
		return nil, fmt.Errorf("load contract: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("contract is invalid: %w", err)
	}
	return doc, nil
}

// Load parses the contract and indexes its operations.
func Load() (*Spec, error) {
	doc, err := LoadDoc()
	if err != nil {
		return nil, err
	}
	s := &Spec{Doc: doc, byID: map[string]*Operation{}, byRoute: map[route]*Operation{}}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			o := &Operation{
				ID:          op.OperationID,
				Method:      method,
				Path:        path,
				EchoPath:    EchoPath(path),
				Summary:     op.Summary,
				Description: op.Description,
				HasBody:     op.RequestBody != nil,
				Op:          op,
			}
			if len(op.Tags) > 0 {
				o.Module = op.Tags[0]
			}
			if v, ok := op.Extensions["x-openai-isConsequential"].(bool); ok {
				o.Consequential = v
			}
			if v, ok := op.Extensions["x-jarvis-long"].(bool); ok {
				o.Long = v
			}
			if v, ok := op.Extensions["x-jarvis-scope"].(string); ok {
				o.ScopeOverride = v
			}
			s.Operations = append(s.Operations, o)
			s.byID[o.ID] = o
			s.byRoute[route{method, o.EchoPath}] = o
		}
	}
	sort.SliceStable(s.Operations, func(i, j int) bool {
		if s.Operations[i].Path != s.Operations[j].Path {
			return s.Operations[i].Path < s.Operations[j].Path
		}
		return s.Operations[i].Method < s.Operations[j].Method
	})
	return s, nil
}

// EchoPath turns a contract path into the route Echo registers for it.
func EchoPath(path string) string {
	var b strings.Builder
	b.WriteString(BasePath)
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '{':
			b.WriteByte(':')
		case '}':
		default:
			b.WriteByte(path[i])
		}
	}
	return b.String()
}

// ByID finds an operation by its operationId.
func (s *Spec) ByID(id string) (*Operation, bool) {
	o, ok := s.byID[id]
	return o, ok
}

// ByRoute finds the operation Echo matched, from the request method and c.Path().
func (s *Spec) ByRoute(method, echoPath string) (*Operation, bool) {
	o, ok := s.byRoute[route{method, echoPath}]
	return o, ok
}

// Modules lists the modules (the operations' first tags) in the contract's tag order.
func (s *Spec) Modules() []Module {
	var mods []Module
	for _, tag := range s.Doc.Tags {
		m := Module{Name: tag.Name, Description: tag.Description}
		for _, o := range s.Operations {
			if o.Module == tag.Name {
				m.Operations = append(m.Operations, o)
			}
		}
		if len(m.Operations) > 0 {
			mods = append(mods, m)
		}
	}
	return mods
}

// Module is a group of operations under one tag.
type Module struct {
	Name        string
	Description string
	Operations  []*Operation
}

// Served renders the contract as served to callers: YAML as written and JSON, with servers[0]
// naming publicURL plus the base path.
func Served(publicURL string) (yamlDoc, jsonDoc []byte, err error) {
	serverURL := strings.TrimRight(publicURL, "/") + BasePath

	var root yaml.Node
	if err := yaml.Unmarshal(JarvisYAML, &root); err != nil {
		return nil, nil, fmt.Errorf("parse contract: %w", err)
	}
	if err := setServerURL(&root, serverURL); err != nil {
		return nil, nil, err
	}
	setOAuthURLs(&root, strings.TrimRight(publicURL, "/"))
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, nil, fmt.Errorf("render contract: %w", err)
	}
	yamlDoc = buf.Bytes()

	var tree any
	if err := yaml.Unmarshal(yamlDoc, &tree); err != nil {
		return nil, nil, fmt.Errorf("reparse contract: %w", err)
	}
	jsonDoc, err = json.MarshalIndent(tree, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("render contract as JSON: %w", err)
	}
	return yamlDoc, jsonDoc, nil
}

// setOAuthURLs points the oauth2 scheme's flows at Jarvis's own authorization and token
// endpoints under the public URL.
func setOAuthURLs(root *yaml.Node, publicURL string) {
	node := root.Content[0]
	for _, key := range []string{"components", "securitySchemes", "oauth2", "flows", "authorizationCode"} {
		node = mapValue(node, key)
		if node == nil {
			return
		}
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		switch node.Content[i].Value {
		case "authorizationUrl":
			node.Content[i+1].Value = publicURL + "/oauth/authorize"
		case "tokenUrl", "refreshUrl":
			node.Content[i+1].Value = publicURL + "/oauth/token"
		}
	}
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setServerURL(root *yaml.Node, url string) error {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("contract is not a YAML mapping")
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != "servers" {
			continue
		}
		servers := m.Content[i+1]
		if servers.Kind != yaml.SequenceNode || len(servers.Content) == 0 {
			return fmt.Errorf("contract servers is empty")
		}
		first := servers.Content[0]
		for j := 0; j+1 < len(first.Content); j += 2 {
			switch first.Content[j].Value {
			case "url":
				first.Content[j+1].Value = url
			case "description":
				first.Content[j+1].Value = "This Jarvis server."
			}
		}
		return nil
	}
	return fmt.Errorf("contract has no servers")
}

// StringFormats are the string formats the contract relies on that kin-openapi does not check
// by itself. Every validator of the contract uses them, so that all agree.
func StringFormats() map[string]func(string) error {
	return map[string]func(string) error{"uri": validateURI}
}

// SchemaValidationOptions carry StringFormats for kin-openapi's validators.
func SchemaValidationOptions() []openapi3.SchemaValidationOption {
	var opts []openapi3.SchemaValidationOption
	for name, fn := range StringFormats() {
		opts = append(opts, openapi3.WithStringFormatValidator(name, openapi3.NewCallbackValidator(fn)))
	}
	return opts
}

// validateURI accepts an absolute URI; http and https ones must name a host.
func validateURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return errors.New("must be an absolute URI, such as https://example.com/track.mp3")
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return errors.New("must name a host")
	}
	return nil
}
