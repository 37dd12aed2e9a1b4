package checks

import (
	"context"
	"fmt"

	"github.com/aidawg/jarvis/openapi"
	"github.com/aidawg/jarvis/services/modules"
)

// Availability says whether the server carries out an operation, and if not, why.
type Availability func(operationID string) (bool, string)

// ContractsValidator checks that the contracts built into the binary load and validate, and
// that every operation of the public contract is carried out rather than answered with 501.
func ContractsValidator(spec *openapi.Spec, available Availability) Validator {
	return Validator{Name: "contracts", Category: API, Run: func(context.Context) (Outcome, error) {
		var out Outcome
		out.Checks++
		if _, err := openapi.LoadDoc(); err != nil {
			out.Issues = append(out.Issues, Issue{Check: "jarvis-contract", Category: API, Severity: Critical,
				Message: "The public contract built into this server does not load: " + err.Error()})
		}
		out.Checks++
		if _, err := modules.ParseContract(openapi.AidawgYAML); err != nil {
			out.Issues = append(out.Issues, Issue{Check: "aidawg-contract", Category: API, Severity: Critical,
				Message: "The AI Dawg contract built into this server does not load: " + err.Error()})
		}
		for _, o := range spec.Operations {
			out.Checks++
			if ok, why := available(o.ID); !ok {
				out.Issues = append(out.Issues, Issue{Check: "operation:" + o.ID, Category: API, Severity: Warning,
					Message: fmt.Sprintf("%s answers 501 not_implemented: %s.", o.ID, why)})
			}
		}
		return out, nil
	}}
}
