// Package openapi embeds the contracts, the source of truth for everything generated from them.
package openapi

import _ "embed"

// JarvisYAML is the public contract as written.
//
//go:embed jarvis.yaml
var JarvisYAML []byte

// AidawgYAML is the AI Dawg module API as written.
//
//go:embed aidawg.yaml
var AidawgYAML []byte
