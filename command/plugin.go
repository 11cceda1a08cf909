// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/droverhq/drover/drivers/registry"
	"github.com/droverhq/drover/plugins"
)

func init() {
	Register("plugin driver", func(ui *UI) Command { return &PluginDriverCommand{UI: ui} })
}

// PluginDriverCommand serves built-in task drivers from one go-plugin
// subprocess. The agent runs it; people do not.
type PluginDriverCommand struct {
	UI *UI
}

// Synopsis implements Command.
func (c *PluginDriverCommand) Synopsis() string {
	return "Serve built-in task driver plugins (run by the agent)"
}

// Help implements Command.
func (c *PluginDriverCommand) Help() string {
	return strings.TrimSpace(fmt.Sprintf(`
Usage: drover plugin driver NAME[,NAME...]

  Serves the named built-in task drivers over the plugin protocol on this
  process's stdout, all from this one process. The agent starts one such
  process for all its enabled built-in drivers; running it by hand only
  prints a notice and exits.

  Built-in drivers: %s
`, strings.Join(registry.Names(), ", ")))
}

// Run implements Command.
func (c *PluginDriverCommand) Run(ctx context.Context, args []string) int {
	if len(args) != 1 {
		c.UI.Error(c.Help())
		return ExitError
	}
	builtin := registry.Builtin()
	var drivers []plugins.Driver
	seen := map[string]bool{}
	for _, name := range strings.Split(args[0], ",") {
		factory, ok := builtin[name]
		if !ok {
			c.UI.Error(fmt.Sprintf("Unknown driver %q; built-in drivers: %s", name, strings.Join(registry.Names(), ", ")))
			return ExitError
		}
		if seen[name] {
			c.UI.Error(fmt.Sprintf("Driver %q is named twice", name))
			return ExitError
		}
		seen[name] = true
		// go-plugin reads the plugin's log lines from stderr as JSON and
		// re-logs them in the agent, each under its driver's name.
		drivers = append(drivers, factory(plugins.PluginLogger(name)))
	}
	if err := plugins.ServeDrivers(drivers...); err != nil {
		c.UI.Error(err.Error())
		return ExitError
	}
	return ExitOK
}
