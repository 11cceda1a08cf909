// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Command simcluster is issue 5's simulated-cluster benchmark: it starts a
// real Drover server, registers thousands of simulated nodes through the
// client RPC (bench/simnode), submits jobs through the HTTP API with
// github.com/hashicorp/nomad/api, waits until every allocation is reported
// running, and prints one line per scenario:
//
//	BENCH <name> placements=<n> seconds=<s> rate=<per s> eval_p50_ms=<ms> eval_p99_ms=<ms> rss_mb=<server RSS>
//
// Usage:
//
//	go run ./bench/simcluster -scenario service10k|c1m|system5k|spread10k|all
//
// -server binary (default) runs `bin/drover agent -server`; -server
// embedded runs the same agent package in-memory (dev raft) from this
// binary, and accepts -cpuprofile/-memprofile for the server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: BENCH lines go to stdout, logs and failures to
// stderr; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simcluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts    runOptions
		sf      serveFlags
		serveMe bool
		name    string
	)
	fs.StringVar(&name, "scenario", "all", "scenario to run: service10k, c1m, system5k, spread10k or all")
	fs.StringVar(&opts.server.mode, "server", "binary", "server under test: binary (drover agent -server, raft on disk) or embedded (this binary, dev-mode raft in memory, profilable)")
	fs.StringVar(&opts.server.drover, "drover", "bin/drover", "drover binary for -server binary")
	fs.StringVar(&opts.server.cpuProfile, "cpuprofile", "", "write the server's CPU profile here (embedded: the whole run; binary: -cpuprofile-for from the first submission)")
	fs.DurationVar(&opts.server.cpuProfileFor, "cpuprofile-for", 60*time.Second, "how long to profile a -server binary")
	fs.StringVar(&opts.server.memProfile, "memprofile", "", "write the server's heap profile here at the end of each scenario")
	fs.IntVar(&opts.server.schedulers, "schedulers", 0, "server scheduler workers (0: the server's default)")
	fs.StringVar(&opts.server.memLimit, "server-memlimit", "", "the server's GOMEMLIMIT, e.g. 3GiB (default: none)")
	fs.Float64Var(&opts.scale, "scale", 1, "multiply job counts and allocations by this (quick runs: 0.1)")
	fs.IntVar(&opts.nodes, "nodes", 0, "simulated nodes (0: the scenario's)")
	fs.IntVar(&opts.conns, "conns", 16, "RPC connections the simulated nodes share")
	fs.IntVar(&opts.submitters, "submitters", 8, "concurrent job submissions")
	fs.DurationVar(&opts.timeout, "timeout", 15*time.Minute, "give up on a scenario after this long")
	fs.StringVar(&opts.logLevel, "log-level", "INFO", "harness log level")
	fs.BoolVar(&serveMe, "serve", false, "internal: run as the embedded server")
	fs.IntVar(&sf.httpPort, "serve-http", 0, "internal: embedded server HTTP port")
	fs.IntVar(&sf.rpcPort, "serve-rpc", 0, "internal: embedded server RPC port")
	fs.StringVar(&sf.dataDir, "serve-dir", "", "internal: embedded server data dir")
	fs.IntVar(&sf.schedulers, "serve-schedulers", 0, "internal: embedded server scheduler workers")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if serveMe {
		sf.cpuProfile, sf.memProfile = opts.server.cpuProfile, opts.server.memProfile
		if err := serve(sf); err != nil {
			fmt.Fprintln(stderr, "embedded server:", err)
			return 1
		}
		return 0
	}
	opts.logger = hclog.New(&hclog.LoggerOptions{Name: "simcluster", Level: hclog.LevelFromString(opts.logLevel), Output: stderr})

	var todo []scenario
	if name == "all" {
		todo = scenarios
	} else {
		s, err := findScenario(name)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		todo = []scenario{s}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var failed []error
	for _, s := range todo {
		res, err := runScenario(ctx, s, opts)
		if err != nil {
			err = fmt.Errorf("scenario %s: %w", s.name, err)
			fmt.Fprintln(stderr, "FAIL", err)
			failed = append(failed, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		fmt.Fprintln(stdout, res.benchLine())
	}
	if len(failed) > 0 {
		fmt.Fprintln(stderr, errors.Join(failed...))
		return 1
	}
	return 0
}
