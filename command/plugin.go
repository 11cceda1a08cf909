// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/droverhq/drover/drivers/registry"
	"github.com/droverhq/drover/plugins"
)

func init() {
	Register("plugin driver", func(ui *UI) Command { return &PluginDriverCommand{UI: ui} })
}

// PluginDriverCommand serves a built-in task driver as a go-plugin
// subprocess. The agent runs it; people do not.
type PluginDriverCommand struct {
	UI *UI
}

// Synopsis implements Command.
func (c *PluginDriverCommand) Synopsis() string {
	return "Serve a built-in task driver plugin (run by the agent)"
}

// Help implements Command.
func (c *PluginDriverCommand) Help() string {
	return strings.TrimSpace(fmt.Sprintf(`
Usage: drover plugin driver NAME

  Serves the built-in task driver NAME over the plugin protocol on this
  process's stdout. The agent starts one such process per driver; running
  it by hand only prints a notice and exits.

  Built-in drivers: %s
`, strings.Join(builtinDriverNames(), ", ")))
}

func builtinDriverNames() []string {
	var names []string
	for name := range registry.Builtin() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Run implements Command.
func (c *PluginDriverCommand) Run(ctx context.Context, args []string) int {
	if len(args) != 1 {
		c.UI.Error(c.Help())
		return ExitError
	}
	factory, ok := registry.Builtin()[args[0]]
	if !ok {
		c.UI.Error(fmt.Sprintf("Unknown driver %q; built-in drivers: %s", args[0], strings.Join(builtinDriverNames(), ", ")))
		return ExitError
	}
	// go-plugin reads the plugin's log lines from stderr as JSON and
	// re-logs them in the agent under the plugin's name.
	logger := plugins.PluginLogger(args[0])
	plugins.Serve(factory(logger))
	return ExitOK
}
