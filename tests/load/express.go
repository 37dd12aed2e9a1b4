package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The Express stack Jarvis replaced, rebuilt in tools/express-baseline, and the contract it
// validates against; both relative to the repository's root, where the harness runs.
const (
	expressDir  = "tools/express-baseline"
	expressSpec = "openapi/jarvis.yaml"
)

// errNoNode says the Express stack cannot run here, which -express=auto accepts.
var errNoNode = errors.New("node and npm are not both on PATH")

// startExpress installs the Express stack's packages when they are missing or older than its
// lockfile, and starts it on addr, accepting token as the bearer token.
func startExpress(ctx context.Context, addr, token string) (*process, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, errNoNode
		}
	}
	lock, err := os.Stat(filepath.Join(expressDir, "package-lock.json"))
	if err != nil {
		return nil, fmt.Errorf("%w (run the harness from the repository's root)", err)
	}
	modules := filepath.Join(expressDir, "node_modules")
	if m, err := os.Stat(modules); err != nil || m.ModTime().Before(lock.ModTime()) {
		fmt.Println("installing the Express stack (npm ci) ...")
		// Bounded like every phase: a registry that does not answer ends the install, not the run.
		ictx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		install := exec.CommandContext(ictx, "npm", "ci", "--prefix", expressDir, "--no-audit", "--no-fund", "--loglevel=error")
		install.Stdout, install.Stderr = os.Stdout, os.Stderr
		if err := install.Run(); err != nil {
			return nil, fmt.Errorf("npm ci: %w", err)
		}
		// The check above compares the directory's time; set it rather than rely on how npm
		// recreated the directory.
		now := time.Now()
		if err := os.Chtimes(modules, now, now); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command("node", filepath.Join(expressDir, "server.js"), expressSpec, addr)
	cmd.Env = append(os.Environ(), "NODE_ENV=production", "JARVIS_AUTH_TOKEN="+token)
	return start(ctx, "express", cmd, addr)
}
