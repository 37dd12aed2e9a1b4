package modules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aidawg/jarvis/gen/aidawg"
	"github.com/aidawg/jarvis/services"
)

// Failure is an AI Dawg failure: one of the contract's codes, a message written for whoever
// reads the problem it becomes, and for INVALID_PARAMS the params at fault.
type Failure struct {
	Code       aidawg.ErrorCode
	Message    string
	Fields     []services.FieldError
	RetryAfter time.Duration // for RATE_LIMIT_EXCEEDED and SERVICE_UNAVAILABLE
	Err        error         // cause, for logs only
}

func (f *Failure) Error() string {
	if f.Err != nil {
		return fmt.Sprintf("%s: %s: %v", f.Code, f.Message, f.Err)
	}
	return fmt.Sprintf("%s: %s", f.Code, f.Message)
}

func (f *Failure) Unwrap() error { return f.Err }

// InvalidParams is the failure for params a command cannot work with.
func InvalidParams(message string, fields ...services.FieldError) *Failure {
	return &Failure{Code: aidawg.INVALIDPARAMS, Message: message, Fields: fields}
}

// UnsupportedMedia is the failure for params that point at media in a format the command
// cannot read.
func UnsupportedMedia(message string, fields ...services.FieldError) *Failure {
	return &Failure{Code: aidawg.UNSUPPORTEDMEDIA, Message: message, Fields: fields}
}

// NotFound is the failure for params that name a record the tenant does not have.
func NotFound(message string, fields ...services.FieldError) *Failure {
	return &Failure{Code: aidawg.NOTFOUND, Message: message, Fields: fields}
}

// Conflict is the failure for a change to a record that changed since it was read, or that
// its state does not allow.
func Conflict(message string, fields ...services.FieldError) *Failure {
	return &Failure{Code: aidawg.CONFLICT, Message: message, Fields: fields}
}

// ExecutionFailed is the failure for a command that could not be carried out.
func ExecutionFailed(message string, cause error) *Failure {
	return &Failure{Code: aidawg.EXECUTIONFAILED, Message: message, Err: cause}
}

// Module is one embedded AI Dawg module: it registers its commands, and optionally health
// probes and business rules, on the Registrar it is given.
type Module interface {
	Name() string // a module of the contract, such as music
	Register(*Registrar)
}

// Registrar is where one module registers what it implements.
type Registrar struct {
	rt     *Runtime
	module string
	errs   []error
}

// Handle registers fn as the implementation of cmd. fn gets params that the contract's
// params schema has accepted, and its result must match the contract's result schema.
func Handle[P, R any](reg *Registrar, cmd Command[P, R], fn func(context.Context, P) (R, error)) {
	spec, ok := reg.rt.contract.Spec(cmd.Ref)
	switch {
	case !ok:
		reg.errs = append(reg.errs, fmt.Errorf("%s is not a command of the contract", cmd.Ref))
		return
	case cmd.Module != reg.module:
		reg.errs = append(reg.errs, fmt.Errorf("module %s cannot register %s", reg.module, cmd.Ref))
		return
	case reg.rt.handlers[cmd.Ref] != nil:
		reg.errs = append(reg.errs, fmt.Errorf("%s is registered twice", cmd.Ref))
		return
	}
	if params, result := cmd.Types(); params.Name() != spec.Params || result.Name() != spec.Result {
		reg.errs = append(reg.errs, fmt.Errorf("%s takes %s and answers %s in the contract, not %s and %s",
			cmd.Ref, spec.Params, spec.Result, params, result))
		return
	}
	reg.rt.handlers[cmd.Ref] = &handler{
		spec:  spec,
		typed: fn,
		json: func(ctx context.Context, raw json.RawMessage) (any, error) {
			var p P
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, InvalidParams("The params do not have the types the contract gives: " + err.Error())
			}
			return fn(ctx, p)
		},
	}
}

// Probe registers a health probe of the module: nil means healthy.
func (reg *Registrar) Probe(name string, fn func(context.Context) error) {
	m := reg.rt.state(reg.module)
	m.probes = append(m.probes, probe{name: name, fn: fn})
}

// Rule registers a business rule of the module, checked by testing/run-validation.
func (reg *Registrar) Rule(name string, fn func(context.Context) []RuleIssue) {
	m := reg.rt.state(reg.module)
	m.rules = append(m.rules, rule{name: name, fn: fn})
}

// RuleIssue is one way in which the module's data breaks a business rule.
type RuleIssue struct {
	Severity aidawg.Severity
	Message  string
	Field    string
}

type handler struct {
	spec  *Spec
	typed any // func(context.Context, P) (R, error)
	json  func(context.Context, json.RawMessage) (any, error)
}

type probe struct {
	name string
	fn   func(context.Context) error
}

type rule struct {
	name string
	fn   func(context.Context) []RuleIssue
}

type moduleState struct {
	probes []probe
	rules  []rule
}

// Runtime is the embedded AI Dawg modules: an in-process implementation of the contract that
// serves what the remote backend would, for the commands its modules implement.
type Runtime struct {
	contract *Contract
	log      zerolog.Logger
	handlers map[Ref]*handler
	modules  map[string]*moduleState
	started  time.Time
}

// NewRuntime builds the embedded modules from mods. The testing module is always present.
func NewRuntime(contract *Contract, log zerolog.Logger, mods ...Module) (*Runtime, error) {
	rt := &Runtime{contract: contract, log: log, handlers: map[Ref]*handler{},
		modules: map[string]*moduleState{}, started: time.Now()}
	var errs []error
	for _, m := range append([]Module{testingModule{rt}}, mods...) {
		if !contract.HasModule(m.Name()) {
			errs = append(errs, fmt.Errorf("module %q is not in the contract", m.Name()))
			continue
		}
		reg := &Registrar{rt: rt, module: m.Name()}
		rt.state(m.Name())
		m.Register(reg)
		errs = append(errs, reg.errs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("embedded modules: %w", err)
	}
	return rt, nil
}

func (rt *Runtime) state(module string) *moduleState {
	m := rt.modules[module]
	if m == nil {
		m = &moduleState{}
		rt.modules[module] = m
	}
	return m
}

// Contract is the contract the runtime implements.
func (rt *Runtime) Contract() *Contract { return rt.contract }

// Implements reports whether an embedded module carries out the command.
func (rt *Runtime) Implements(ref Ref) bool { return rt.handlers[ref] != nil }

// Implemented lists the commands of module that an embedded module carries out, and how
// many the contract has.
func (rt *Runtime) Implemented(module string) (implemented []Ref, total int) {
	for _, s := range rt.contract.Commands() {
		if s.Module != module {
			continue
		}
		total++
		if rt.Implements(s.Ref) {
			implemented = append(implemented, s.Ref)
		}
	}
	return implemented, total
}

// Execute runs a command given as it arrives on the wire: the generic path of the contract,
// with MODULE_NOT_FOUND, ACTION_NOT_FOUND and INVALID_PARAMS as the backend answers them.
func (rt *Runtime) Execute(ctx context.Context, module, action string, params json.RawMessage) (any, *Failure) {
	ref := Ref{module, action}
	if !rt.contract.HasModule(module) {
		return nil, &Failure{Code: aidawg.MODULENOTFOUND, Message: fmt.Sprintf(
			"There is no module %q; the modules are %v.", module, rt.contract.Modules())}
	}
	h := rt.handlers[ref]
	if h == nil {
		return nil, actionNotFound(rt.contract, ref)
	}
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	v, err := decode(params)
	if err != nil {
		return nil, InvalidParams("The params are not valid JSON.")
	}
	if f := checkParams(h.spec, v); f != nil {
		return nil, f
	}
	return rt.run(ctx, h, func(ctx context.Context) (any, error) { return h.json(ctx, params) })
}

// Invoke runs a command in process with typed params. The params are checked against the
// contract as on the wire, so that the embedded modules refuse what the remote would.
func Invoke[P, R any](ctx context.Context, rt *Runtime, cmd Command[P, R], p P) (R, *Failure) {
	var zero R
	h := rt.handlers[cmd.Ref]
	if h == nil {
		return zero, actionNotFound(rt.contract, cmd.Ref)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return zero, InvalidParams("The params cannot be encoded as JSON: " + err.Error())
	}
	v, err := decode(raw)
	if err != nil {
		return zero, InvalidParams("The params are not valid JSON.")
	}
	if f := checkParams(h.spec, v); f != nil {
		return zero, f
	}
	fn, ok := h.typed.(func(context.Context, P) (R, error))
	if !ok {
		return zero, ExecutionFailed(fmt.Sprintf("%s is registered with other types.", cmd.Ref), nil)
	}
	out, f := rt.run(ctx, h, func(ctx context.Context) (any, error) { return fn(ctx, p) })
	if f != nil {
		return zero, f
	}
	return out.(R), nil
}

// run calls a command's implementation, turning its errors and panics into failures.
func (rt *Runtime) run(ctx context.Context, h *handler, call func(context.Context) (any, error)) (out any, f *Failure) {
	defer func() {
		if p := recover(); p != nil {
			rt.log.Error().Str("command", h.spec.Ref.String()).Interface("panic", p).
				Bytes("stack", debug.Stack()).Msg("embedded command panicked")
			out, f = nil, ExecutionFailed(fmt.Sprintf("%s failed inside the embedded modules.", h.spec.Ref), nil)
		}
	}()
	out, err := call(ctx)
	if err == nil {
		return out, nil
	}
	var failure *Failure
	if errors.As(err, &failure) {
		return nil, failure
	}
	rt.log.Error().Err(err).Str("command", h.spec.Ref.String()).Str("requestId", services.RequestID(ctx)).
		Msg("embedded command failed")
	return nil, ExecutionFailed(fmt.Sprintf("%s failed inside the embedded modules.", h.spec.Ref), err)
}

func checkParams(spec *Spec, v any) *Failure {
	err := spec.params.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return InvalidParams("The params could not be checked: " + err.Error())
	}
	var fields []services.FieldError
	services.JSONSchemaFieldErrors(ve, &fields)
	return InvalidParams(fmt.Sprintf("The params of %s do not match the contract: %s.", spec.Ref, describe(err)), fields...)
}

func actionNotFound(c *Contract, ref Ref) *Failure {
	if _, ok := c.Spec(ref); ok {
		return &Failure{Code: aidawg.ACTIONNOTFOUND, Message: fmt.Sprintf(
			"%s is in the contract but the embedded modules do not carry it out.", ref)}
	}
	var actions []string
	for _, s := range c.Commands() {
		if s.Module == ref.Module {
			actions = append(actions, s.Action)
		}
	}
	slices.Sort(actions)
	return &Failure{Code: aidawg.ACTIONNOTFOUND, Message: fmt.Sprintf(
		"Module %s has no action %q; its actions are %v.", ref.Module, ref.Action, actions)}
}
