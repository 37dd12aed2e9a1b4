package services

import (
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var english = message.NewPrinter(language.English)

// JSONSchemaFieldErrors flattens a JSON Schema validation error into one entry per failing
// field; a missing or unknown property is named by its own pointer.
func JSONSchemaFieldErrors(ve *jsonschema.ValidationError, out *[]FieldError) {
	JSONSchemaFieldErrorsAt("", ve, out)
}

// JSONSchemaFieldErrorsAt is JSONSchemaFieldErrors for a value found at prefix, such as a
// parameter's "query:limit".
func JSONSchemaFieldErrorsAt(prefix string, ve *jsonschema.ValidationError, out *[]FieldError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			JSONSchemaFieldErrorsAt(prefix, c, out)
		}
		return
	}
	at := prefix + JSONPointer(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, p := range k.Missing {
			*out = append(*out, FieldError{Field: at + "/" + escapePointerToken(p), Message: "is required"})
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, FieldError{Field: at + "/" + escapePointerToken(p), Message: "is not a field of this request"})
		}
		return
	case *kind.InvalidJsonValue:
		*out = append(*out, FieldError{Field: at, Message: "is a number too large to handle"})
		return
	}
	*out = append(*out, FieldError{Field: at, Message: ve.ErrorKind.LocalizedString(english)})
}

// JSONPointer renders reference tokens as an RFC 6901 JSON pointer; no tokens is "".
func JSONPointer(tokens []string) string {
	if len(tokens) == 0 {
		return ""
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointerToken(t))
	}
	return b.String()
}

func escapePointerToken(token string) string {
	if !strings.ContainsAny(token, "~/") {
		return token
	}
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}
