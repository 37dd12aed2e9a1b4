package tests

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/aidawg/jarvis/"

// layer places a package of the module in the design's order of dependencies:
// cmd -> app -> handlers, middleware -> services -> gen, openapi.
func layer(pkg string) int {
	top, _, _ := strings.Cut(pkg, "/")
	switch top {
	case "cmd":
		return 5
	case "app":
		return 4
	case "handlers", "middleware":
		return 3
	case "services":
		return 2
	case "gen", "openapi":
		return 1
	}
	return 0
}

// importAllowed says whether from may import to. Downward edges are, and so are edges within
// services/ and within gen/. Handlers may use middleware's leaf packages (problem, reqvalidate),
// which both doors share, but neither the middleware package nor handlers' own are shared the
// other way.
func importAllowed(from, to string) bool {
	lf, lt := layer(from), layer(to)
	switch {
	case lt < lf:
		return true
	case lt > lf:
		return false
	}
	fromTop, _, _ := strings.Cut(from, "/")
	toTop, _, _ := strings.Cut(to, "/")
	switch {
	case fromTop == toTop && fromTop != "handlers" && fromTop != "middleware":
		return true
	case strings.HasPrefix(to, "middleware/"):
		// middleware's leaf packages, for handlers, the middleware package and each other.
		return true
	case fromTop == "handlers" && toTop == "handlers":
		return true
	}
	return false
}

// The import graph has no edge against the design's direction.
func TestImportsPointOneWay(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	var bad []string
	packages := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		from, ok := strings.CutPrefix(fields[0], module)
		if !ok || strings.HasPrefix(from, "tests") {
			continue
		}
		packages++
		require.NotZero(t, layer(from), "%s is in no folder of the layout", from)
		for _, imp := range fields[1:] {
			to, ours := strings.CutPrefix(imp, module)
			if ours && !importAllowed(from, to) {
				bad = append(bad, from+" -> "+to)
			}
		}
	}
	assert.Greater(t, packages, 20)
	assert.Empty(t, bad, "imports against cmd -> app -> handlers/middleware -> services -> gen/openapi")
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"app", "handlers", true},
		{"handlers", "middleware/problem", true},
		{"handlers", "middleware/reqvalidate", true},
		{"middleware/reqvalidate", "middleware/problem", true},
		{"middleware", "middleware/reqvalidate", true},
		{"handlers", "middleware", false},
		{"middleware", "handlers", false},
		{"middleware", "handlers/mcpserver", false},
		{"handlers/aidawgapi/standin", "handlers/aidawgapi", true},
		{"services/jobs", "services/artifacts", true},
		{"services/jobs", "middleware/problem", false},
		{"services", "handlers", false},
		{"openapi", "services", false},
		{"gen/jarvis", "openapi", false},
		{"services/modules", "openapi", true},
		{"handlers", "app", false},
	} {
		assert.Equal(t, tc.ok, importAllowed(tc.from, tc.to), "%s -> %s", tc.from, tc.to)
	}
}
