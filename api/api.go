// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package api is Drover's Go client for the HTTP API.
//
// Drover speaks Nomad's /v1 API, so its wire types are Nomad's: this package
// re-exports the types of github.com/hashicorp/nomad/api (MPL-2.0) as aliases
// instead of redefining them. That makes the JSON that Drover's CLI and job
// parser produce identical, by construction, to what Nomad's tools produce
// and accept, and keeps one source of truth for field names and nesting.
//
// What Drover adds lives here: configuration from DROVER_* environment
// variables (falling back to NOMAD_* so existing scripts keep working).
//
// This package must not import Drover's internal packages: outside tools
// use it.
package api

import (
	"os"

	nomad "github.com/hashicorp/nomad/api"
)

// DefaultAddress is where the CLI looks for an agent when neither -address
// nor DROVER_ADDR (or NOMAD_ADDR) says otherwise.
const DefaultAddress = "http://127.0.0.1:4646"

// Client is an HTTP API client; see NewClient.
type Client = nomad.Client

// Config configures a Client.
type Config = nomad.Config

// QueryOptions and WriteOptions tune a single request (index, wait, region,
// namespace, ...).
type (
	QueryOptions = nomad.QueryOptions
	WriteOptions = nomad.WriteOptions
	QueryMeta    = nomad.QueryMeta
	WriteMeta    = nomad.WriteMeta
)

// DefaultConfig returns the client configuration from the environment:
// DROVER_ADDR, DROVER_REGION, DROVER_NAMESPACE and DROVER_TOKEN win over their
// NOMAD_* counterparts, which win over the defaults.
func DefaultConfig() *Config {
	cfg := nomad.DefaultConfig()
	if cfg.Address == "" {
		cfg.Address = DefaultAddress
	}
	if v := os.Getenv("DROVER_ADDR"); v != "" {
		cfg.Address = v
	}
	if v := os.Getenv("DROVER_REGION"); v != "" {
		cfg.Region = v
	}
	if v := os.Getenv("DROVER_NAMESPACE"); v != "" {
		cfg.Namespace = v
	}
	if v := os.Getenv("DROVER_TOKEN"); v != "" {
		cfg.SecretID = v
	}
	return cfg
}

// NewClient returns a client for cfg; a nil cfg means DefaultConfig().
func NewClient(cfg *Config) (*Client, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	return nomad.NewClient(cfg)
}
