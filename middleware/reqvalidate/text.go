package reqvalidate

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aidawg/jarvis/services"
)

// BadText says what is wrong with text from outside that no store can keep: PostgreSQL refuses
// text that is not UTF-8 or holds a NUL (SQLSTATE 22021), so such text is refused where it
// enters, once. It is "" for good text.
func BadText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	return ""
}

// bodyText finds the strings and member names of a decoded body that hold a NUL, and the
// place of text that was not UTF-8 in data, which decoding has already replaced with U+FFFD.
func bodyText(data []byte, value any, out *[]services.FieldError) {
	// A NUL reaches a decoded string only through the \u0000 escape; most bodies have neither
	// that nor bad UTF-8 and are not walked.
	if bytes.Contains(data, []byte(`\u0000`)) {
		nulText("", value, out)
	}
	if !utf8.Valid(data) {
		*out = append(*out, services.FieldError{Field: notUTF8At(data, ""), Message: "is not valid UTF-8"})
	}
}

func nulText(ptr string, v any, out *[]services.FieldError) {
	switch v := v.(type) {
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			*out = append(*out, services.FieldError{Field: ptr, Message: "contains a NUL character"})
		}
	case map[string]any:
		for k, m := range v {
			if strings.IndexByte(k, 0) >= 0 {
				*out = append(*out, services.FieldError{Field: ptr, Message: "has a member name with a NUL character"})
				continue
			}
			nulText(ptr+"/"+escapePointer(k), m, out)
		}
	case []any:
		for i, m := range v {
			nulText(ptr+"/"+strconv.Itoa(i), m, out)
		}
	}
}

// notUTF8At is the pointer of the innermost value of raw, valid JSON with bytes that are not
// UTF-8: the string, or the object whose member name holds them.
func notUTF8At(raw []byte, ptr string) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ptr
	}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return ptr
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !utf8.Valid(m[k]) {
				return notUTF8At(m[k], ptr+"/"+escapePointer(k))
			}
		}
	case '[':
		var a []json.RawMessage
		if json.Unmarshal(raw, &a) != nil {
			return ptr
		}
		for i, item := range a {
			if !utf8.Valid(item) {
				return notUTF8At(item, ptr+"/"+strconv.Itoa(i))
			}
		}
	}
	return ptr
}
