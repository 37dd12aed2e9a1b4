package app

import (
	"context"
	"net"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/handlers/aidawgapi"
	"github.com/aidawg/jarvis/services/modules"
)

// EmbeddedModules builds the embedded AI Dawg modules: the one list of them that both
// `jarvis serve` and `jarvis aidawg serve` use. A module built later is added here, as
// modules.NewRuntime(contract, log, music.New(...), ...).
func EmbeddedModules(log zerolog.Logger) (*modules.Runtime, error) {
	contract, err := modules.LoadContract()
	if err != nil {
		return nil, err
	}
	return modules.NewRuntime(contract, log)
}

// ServeEmbeddedModules serves the embedded modules alone on the AI Dawg contract on ln, so
// that they stand in for the backend, until ctx is done; then it drains like Serve.
func ServeEmbeddedModules(ctx context.Context, ln net.Listener, cfg Config, log zerolog.Logger) error {
	rt, err := EmbeddedModules(log)
	if err != nil {
		return err
	}
	return serveUntil(ctx, ln, aidawgapi.Handler(rt, log, aidawgapi.DefaultBodyLimit), cfg)
}
