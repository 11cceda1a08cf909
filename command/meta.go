// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/droverhq/drover/api"
)

// Meta holds what every command that contacts an agent shares: the UI, the
// global connection flags and the client built from them.
type Meta struct {
	UI *UI

	address   string
	region    string
	namespace string
	token     string
}

// Clock and pacing of the CLI; package variables so tests can make dates and
// relative times reproducible and polling fast.
var (
	// nowFunc is the current time, for relative times and monitor stamps.
	nowFunc = time.Now
	// displayLocation is the time zone of printed dates; nil means local.
	displayLocation *time.Location
	// pollInterval is the pause between two polls when the agent answers a
	// blocking query at once without a newer index (an agent or proxy that
	// ignores ?index=).
	pollInterval = time.Second
)

// generalOptions documents the flags FlagSet adds to every agent command.
const generalOptions = `General Options:

  -address=<addr>
    The address of the Drover agent. Overrides the DROVER_ADDR (then
    NOMAD_ADDR) environment variable. Default: http://127.0.0.1:4646

  -region=<region>
    The region to forward commands to. Overrides DROVER_REGION/NOMAD_REGION.

  -namespace=<namespace>
    The target namespace. Overrides DROVER_NAMESPACE/NOMAD_NAMESPACE.

  -token=<token>
    The ACL token sent as X-Nomad-Token. Overrides DROVER_TOKEN/NOMAD_TOKEN.`

// FlagSet returns a flag set named after the command with the global
// connection flags already defined. Parse errors are reported by parseFlags,
// so the set itself prints nothing.
func (m *Meta) FlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&m.address, "address", "", "")
	fs.StringVar(&m.region, "region", "", "")
	fs.StringVar(&m.namespace, "namespace", "", "")
	fs.StringVar(&m.token, "token", "", "")
	return fs
}

// parseFlags parses args into fs and reports a parse error the way every
// command does. It returns false when the command must exit with code 1.
func (m *Meta) parseFlags(fs *flag.FlagSet, args []string) bool {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// Run handles -h before the command; this is "-help=true".
			err = errors.New("use -h alone for help")
		}
		m.UI.Error(fmt.Sprintf("Error parsing flags: %v\nFor additional help try 'drover %s -help'", err, fs.Name()))
		return false
	}
	return true
}

// usageError reports wrong positional arguments and returns ExitError.
func (m *Meta) usageError(name, msg string) int {
	m.UI.Error(fmt.Sprintf("%s\nFor additional help try 'drover %s -help'", msg, name))
	return ExitError
}

// Client returns an API client configured from the environment
// (api.DefaultConfig) overridden by the global flags.
func (m *Meta) Client() (*api.Client, error) {
	cfg := api.DefaultConfig()
	if m.address != "" {
		cfg.Address = m.address
	}
	if m.region != "" {
		cfg.Region = m.region
	}
	if m.namespace != "" {
		cfg.Namespace = m.namespace
	}
	if m.token != "" {
		cfg.SecretID = m.token
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("create API client for %s: %w", cfg.Address, err)
	}
	return c, nil
}

// clientOrFail returns a client, or reports the error and returns nil.
func (m *Meta) clientOrFail() *api.Client {
	c, err := m.Client()
	if err != nil {
		m.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return nil
	}
	return c
}

func (m *Meta) timeNow() time.Time { return nowFunc() }

func (m *Meta) loc() *time.Location {
	if displayLocation != nil {
		return displayLocation
	}
	return time.Local
}

func (m *Meta) poll() time.Duration { return pollInterval }

// stringList is a repeatable string flag (-var a=1 -var b=2).
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
