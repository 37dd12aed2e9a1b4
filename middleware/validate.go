package middleware

import (
	"errors"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	oapimw "github.com/oapi-codegen/echo-middleware"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aidawg/jarvis/apispec"
	"github.com/aidawg/jarvis/services"
)

// Validate enforces the contract on every request to the API: the body's media type, then
// echo-middleware's validation of parameters and body. doc must be a copy used only for
// validation: its servers are replaced by the base path alone, so that routing matches any
// Host (the served copy names the public URL). echo-middleware's Prefix option is not used:
// it validates a clone of the request, so the validated body never reaches the handler.
func Validate(spec *apispec.Spec, doc *openapi3.T) echo.MiddlewareFunc {
	doc.Servers = openapi3.Servers{{URL: apispec.BasePath}}
	validator := oapimw.OapiRequestValidatorWithOptions(doc, &oapimw.Options{
		Options: openapi3filter.Options{
			MultiError:              true,
			SchemaValidationOptions: apispec.SchemaValidationOptions(),
			KeepValidatedValue:      true,
			// Authentication is a layer of its own, ahead of validation.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
		SilenceServersWarning: true,
		MultiErrorHandler: func(me openapi3.MultiError) *echo.HTTPError {
			return &echo.HTTPError{Code: http.StatusBadRequest, Message: "invalid request", Internal: me}
		},
		ErrorHandler: func(c echo.Context, he *echo.HTTPError) error {
			return validationError(he)
		},
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		validated := validator(next)
		return func(c echo.Context) error {
			if op, ok := spec.ByRoute(c.Request().Method, c.Path()); ok && op.HasBody {
				if err := checkJSONBody(c.Request()); err != nil {
					return err
				}
			}
			return validated(c)
		}
	}
}

func checkJSONBody(req *http.Request) *services.Error {
	ct := req.Header.Get(echo.HeaderContentType)
	if ct == "" {
		if req.ContentLength == 0 {
			return nil // an empty body is reported as missing by validation
		}
		return services.Errorf(services.CodeUnsupportedMediaType, "The body has no Content-Type. Send it as JSON with Content-Type: application/json.")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != echo.MIMEApplicationJSON {
		return services.Errorf(services.CodeUnsupportedMediaType, "The body is %q. Send it as JSON with Content-Type: application/json.", ct)
	}
	return nil
}

// validationError turns what echo-middleware reports into a problem that names every field.
func validationError(he *echo.HTTPError) error {
	switch he.Code {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return he
	}
	if he.Internal == nil {
		return he
	}
	var tooLarge *echo.HTTPError
	if errors.As(he.Internal, &tooLarge) && tooLarge.Code == http.StatusRequestEntityTooLarge {
		return tooLarge
	}
	if bodyUnparsable(he.Internal) {
		return &services.Error{Code: services.CodeMalformedJSON, Err: he.Internal,
			Detail: "The body is not valid JSON. Send a JSON object as the contract describes.",
			Fields: []services.FieldError{{Field: "", Message: "not valid JSON"}}}
	}
	var fields []services.FieldError
	collectFieldErrors(he.Internal, &fields)
	if len(fields) == 0 {
		fields = append(fields, services.FieldError{Field: "", Message: strings.SplitN(he.Internal.Error(), "\n", 2)[0]})
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	return &services.Error{Code: services.CodeValidation, Fields: fields, Err: he.Internal, Detail: describeFields(fields)}
}

// bodyUnparsable reports whether the body itself could not be decoded as JSON.
func bodyUnparsable(err error) bool {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, x := range e {
			if bodyUnparsable(x) {
				return true
			}
		}
	case *openapi3filter.RequestError:
		var parseErr *openapi3filter.ParseError
		return e.RequestBody != nil && errors.As(e.Err, &parseErr)
	}
	return false
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

func collectFieldErrors(err error, out *[]services.FieldError) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, x := range e {
			collectFieldErrors(x, out)
		}
	case *openapi3filter.RequestError:
		switch {
		case e.Parameter != nil:
			field := e.Parameter.In + ":" + e.Parameter.Name
			var leaves []services.FieldError
			var parseErr *openapi3filter.ParseError
			if errors.As(e.Err, &parseErr) {
				leaves = append(leaves, services.FieldError{Message: "is not a valid " + parameterType(e.Parameter)})
			} else if e.Err != nil {
				collectSchemaErrors(e.Err, &leaves)
			}
			if len(leaves) == 0 {
				leaves = append(leaves, services.FieldError{Message: e.Reason})
			}
			for _, l := range leaves {
				*out = append(*out, services.FieldError{Field: field + l.Field, Message: l.Message})
			}
		case e.Err == nil:
			*out = append(*out, services.FieldError{Field: "", Message: e.Reason})
		default:
			collectSchemaErrors(e.Err, out)
		}
	default:
		collectSchemaErrors(err, out)
	}
}

func parameterType(p *openapi3.Parameter) string {
	if p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type != nil {
		if types := p.Schema.Value.Type.Slice(); len(types) > 0 {
			return types[0]
		}
	}
	return "value"
}

// collectSchemaErrors reports each failing leaf of a schema error. kin-openapi converts the
// JSON Schema 2020-12 validator's error tree into a tree of SchemaErrors whose Origin holds
// the children; a leaf keeps the validator's own error, which names the field precisely.
func collectSchemaErrors(err error, out *[]services.FieldError) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, x := range e {
			collectSchemaErrors(x, out)
		}
		return
	case *openapi3.SchemaError:
		var children openapi3.MultiError
		if e.Origin != nil && errors.As(e.Origin, &children) {
			collectSchemaErrors(children, out)
			return
		}
		var ve *jsonschema.ValidationError
		if errors.As(e, &ve) {
			services.JSONSchemaFieldErrors(ve, out)
			return
		}
		*out = append(*out, services.FieldError{Field: services.JSONPointer(e.JSONPointer()), Message: e.Reason})
		return
	}
	if errors.Is(err, openapi3filter.ErrInvalidRequired) {
		*out = append(*out, services.FieldError{Field: "", Message: "is required but missing"})
		return
	}
	*out = append(*out, services.FieldError{Field: "", Message: err.Error()})
}
