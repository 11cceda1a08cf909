// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/agent"
)

// serveFlags are the embedded server's settings, passed by the harness
// when it re-executes itself with -serve.
type serveFlags struct {
	httpPort, rpcPort int
	dataDir           string
	schedulers        int
	cpuProfile        string
	memProfile        string
}

// serve runs a dev-mode (raft in memory), server-only agent through the
// same agent package `drover agent` uses, until SIGINT or SIGTERM; it
// profiles the process when asked to.
func serve(f serveFlags) error {
	logger := hclog.New(&hclog.LoggerOptions{Name: "agent", Level: hclog.Warn, Output: os.Stderr})
	if f.cpuProfile != "" {
		out, err := os.Create(f.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return fmt.Errorf("start cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := agent.Start(&agent.Config{
		NodeName:        "bench-server",
		DataDir:         f.dataDir,
		DevMode:         true,
		LogLevel:        "WARN",
		BindAddr:        "127.0.0.1",
		HTTPPort:        f.httpPort,
		RPCPort:         f.rpcPort,
		Server:          true,
		BootstrapExpect: 1,
		NumSchedulers:   f.schedulers,
		PluginConfig:    map[string]map[string]any{},
	}, logger)
	if err != nil {
		return fmt.Errorf("start embedded server: %w", err)
	}
	<-ctx.Done()
	if f.memProfile != "" {
		if err := writeHeapProfile(f.memProfile); err != nil {
			logger.Error("heap profile", "error", err)
		}
	}
	if err := a.Shutdown(); err != nil {
		return fmt.Errorf("shut down embedded server: %w", err)
	}
	return nil
}

func writeHeapProfile(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(out)
}
