package main

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// assertCamelCaseKeys checks every object key in doc, at any depth.
func assertCamelCaseKeys(t *testing.T, name string, doc []byte) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(doc, &v), name)
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			for k, item := range v {
				assert.Regexp(t, camelCase, k, "%s: key %s%s", name, path, k)
				walk(item, path+k+".")
			}
		case []any:
			for _, item := range v {
				walk(item, path)
			}
		}
	}
	walk(v, "")
}
