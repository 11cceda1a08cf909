// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"

	"github.com/droverhq/drover/api"
)

func init() {
	Register("operator scheduler", func(ui *UI) Command { return &OperatorSchedulerCommand{Meta: Meta{UI: ui}} })
}

// OperatorSchedulerCommand implements "drover operator scheduler
// get-config|set-config".
type OperatorSchedulerCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *OperatorSchedulerCommand) Synopsis() string {
	return "Provides access to the scheduler configuration"
}

// Help implements Command.
func (c *OperatorSchedulerCommand) Help() string {
	return `Usage: drover operator scheduler <subcommand> [options]

  Read and change the cluster's scheduler configuration.

Subcommands:

  get-config
    Display the scheduler configuration.

      -json   Print the configuration as JSON.

  set-config
    Change the options given; the others keep their current value.

      -check-index=<index>
        Apply only if the configuration's modify index is still <index>.
      -scheduler-algorithm=<binpack|spread>
      -memory-oversubscription=<bool>
      -reject-job-registration=<bool>
      -pause-eval-broker=<bool>
      -preempt-batch-scheduler=<bool>
      -preempt-service-scheduler=<bool>
      -preempt-system-scheduler=<bool>
      -preempt-sysbatch-scheduler=<bool>

` + generalOptions
}

// Run implements Command.
func (c *OperatorSchedulerCommand) Run(_ context.Context, args []string) int {
	if len(args) == 0 {
		c.UI.Error(c.Help())
		return ExitError
	}
	switch args[0] {
	case "get-config":
		return c.getConfig(args[1:])
	case "set-config":
		return c.setConfig(args[1:])
	}
	return c.usageError("operator scheduler", fmt.Sprintf("Unknown subcommand %q: use get-config or set-config", args[0]))
}

func (c *OperatorSchedulerCommand) getConfig(args []string) int {
	var asJSON bool
	fs := c.FlagSet("operator scheduler get-config")
	fs.BoolVar(&asJSON, "json", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() > 0 {
		return c.usageError("operator scheduler get-config", "This command takes no arguments")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	resp, _, err := client.Operator().SchedulerGetConfiguration(nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error querying scheduler configuration: %v", err))
		return ExitError
	}
	cfg := resp.SchedulerConfig
	if asJSON {
		out, err := json.MarshalIndent(cfg, "", "    ")
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error encoding scheduler configuration: %v", err))
			return ExitError
		}
		c.UI.Output(string(out))
		return ExitOK
	}
	c.UI.Output(formatKV([]string{
		"Scheduler Algorithm|" + string(cfg.SchedulerAlgorithm),
		"Memory Oversubscription|" + strconv.FormatBool(cfg.MemoryOversubscriptionEnabled),
		"Reject Job Registration|" + strconv.FormatBool(cfg.RejectJobRegistration),
		"Pause Eval Broker|" + strconv.FormatBool(cfg.PauseEvalBroker),
		"Preemption System Scheduler|" + strconv.FormatBool(cfg.PreemptionConfig.SystemSchedulerEnabled),
		"Preemption Service Scheduler|" + strconv.FormatBool(cfg.PreemptionConfig.ServiceSchedulerEnabled),
		"Preemption Batch Scheduler|" + strconv.FormatBool(cfg.PreemptionConfig.BatchSchedulerEnabled),
		"Preemption SysBatch Scheduler|" + strconv.FormatBool(cfg.PreemptionConfig.SysBatchSchedulerEnabled),
		"Modify Index|" + strconv.FormatUint(cfg.ModifyIndex, 10),
	}))
	return ExitOK
}

// optBool is a boolean flag that remembers whether it was given.
type optBool struct {
	set bool
	val bool
}

func (b *optBool) String() string { return strconv.FormatBool(b.val) }
func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	b.set, b.val = true, v
	return nil
}
func (b *optBool) IsBoolFlag() bool { return true }

// apply sets *dst when the flag was given.
func (b *optBool) apply(dst *bool) {
	if b.set {
		*dst = b.val
	}
}

func (c *OperatorSchedulerCommand) setConfig(args []string) int {
	var (
		algorithm, checkIndex                                     string
		oversub, reject, pause                                    optBool
		preemptBatch, preemptService, preemptSys, preemptSysBatch optBool
	)
	fs := c.FlagSet("operator scheduler set-config")
	fs.StringVar(&algorithm, "scheduler-algorithm", "", "")
	fs.StringVar(&checkIndex, "check-index", "", "")
	for name, v := range map[string]flag.Value{
		"memory-oversubscription":    &oversub,
		"reject-job-registration":    &reject,
		"pause-eval-broker":          &pause,
		"preempt-batch-scheduler":    &preemptBatch,
		"preempt-service-scheduler":  &preemptService,
		"preempt-system-scheduler":   &preemptSys,
		"preempt-sysbatch-scheduler": &preemptSysBatch,
	} {
		fs.Var(v, name, "")
	}
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() > 0 {
		return c.usageError("operator scheduler set-config", "This command takes no arguments")
	}
	switch api.SchedulerAlgorithm(algorithm) {
	case "", api.SchedulerAlgorithmBinpack, api.SchedulerAlgorithmSpread:
	default:
		return c.usageError("operator scheduler set-config", fmt.Sprintf("Invalid -scheduler-algorithm %q: want binpack or spread", algorithm))
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	resp, _, err := client.Operator().SchedulerGetConfiguration(nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error querying scheduler configuration: %v", err))
		return ExitError
	}
	cfg := resp.SchedulerConfig
	if algorithm != "" {
		cfg.SchedulerAlgorithm = api.SchedulerAlgorithm(algorithm)
	}
	oversub.apply(&cfg.MemoryOversubscriptionEnabled)
	reject.apply(&cfg.RejectJobRegistration)
	pause.apply(&cfg.PauseEvalBroker)
	preemptBatch.apply(&cfg.PreemptionConfig.BatchSchedulerEnabled)
	preemptService.apply(&cfg.PreemptionConfig.ServiceSchedulerEnabled)
	preemptSys.apply(&cfg.PreemptionConfig.SystemSchedulerEnabled)
	preemptSysBatch.apply(&cfg.PreemptionConfig.SysBatchSchedulerEnabled)

	if checkIndex != "" {
		idx, err := strconv.ParseUint(checkIndex, 10, 64)
		if err != nil {
			return c.usageError("operator scheduler set-config", fmt.Sprintf("Invalid -check-index %q: %v", checkIndex, err))
		}
		cfg.ModifyIndex = idx
		set, _, err := client.Operator().SchedulerCASConfiguration(cfg, nil)
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error setting scheduler configuration: %v", err))
			return ExitError
		}
		if !set.Updated {
			c.UI.Error(fmt.Sprintf("Scheduler configuration not updated: its modify index is no longer %d", idx))
			return ExitError
		}
	} else if _, _, err := client.Operator().SchedulerSetConfiguration(cfg, nil); err != nil {
		c.UI.Error(fmt.Sprintf("Error setting scheduler configuration: %v", err))
		return ExitError
	}
	c.UI.Output("Scheduler configuration updated!")
	return ExitOK
}
