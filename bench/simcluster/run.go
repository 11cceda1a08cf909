// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/bench/simnode"
)

// runOptions are the harness flags that apply to every scenario.
type runOptions struct {
	server     serverOptions
	scale      float64
	nodes      int
	conns      int
	submitters int
	timeout    time.Duration
	logLevel   string
	logger     hclog.Logger
}

// stallCheck is how long placements may make no progress before the
// harness looks at the evaluations for a failure to report.
const stallCheck = 3 * time.Second

// runScenario runs one scenario against a fresh server and measures it.
func runScenario(ctx context.Context, s scenario, opts runOptions) (result, error) {
	log := opts.logger.With("scenario", s.name)
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()

	nodes := s.nodes
	if opts.nodes > 0 {
		nodes = opts.nodes
	}
	jobs, want := s.jobs(opts.scale, nodes)
	log.Info("starting", "about", s.about, "nodes", nodes, "jobs", len(jobs), "allocations", want, "server", opts.server.mode)

	srv, err := startServer(ctx, opts.server)
	if err != nil {
		return result{}, err
	}
	defer srv.stop()
	client, err := srv.api()
	if err != nil {
		return result{}, err
	}

	regStart := time.Now()
	cluster, err := simnode.Start(ctx, simnode.Config{
		Servers: []string{srv.rpcAddr},
		Nodes:   nodes,
		Conns:   opts.conns,
		Racks:   racks,
		Logger:  opts.logger,
	})
	if err != nil {
		return result{}, fmt.Errorf("simulated nodes: %w", err)
	}
	defer cluster.Close()
	log.Info("nodes registered", "nodes", nodes, "seconds", time.Since(regStart).Seconds())

	jobIDs := map[string]bool{}
	for _, j := range jobs {
		jobIDs[*j.ID] = true
	}
	start := time.Now()
	if opts.server.mode == "binary" && opts.server.cpuProfile != "" {
		profiled := make(chan struct{})
		go func() {
			defer close(profiled)
			srv.profileCPU(ctx, opts.server.cpuProfile, opts.server.cpuProfileFor, log)
		}()
		// The server must outlive its profile: wait before stopping it.
		defer func() { <-profiled }()
	}
	submitted, err := submit(ctx, client, jobs, opts.submitters)
	if err != nil {
		return result{}, err
	}
	log.Info("jobs submitted", "jobs", len(jobs), "seconds", submitted.Sub(start).Seconds())

	progress := newProgress(log, cluster, start)
	err = cluster.WaitRunning(ctx, int64(want), func() error {
		progress.tick()
		if progress.stalledFor() < stallCheck {
			return nil
		}
		return evalFailure(client, jobIDs)
	})
	if err != nil {
		return result{}, fmt.Errorf("%w; %s", err, diagnose(client, jobIDs, cluster, srv))
	}
	stats := cluster.Stats()
	res := result{name: s.name, placements: stats.Running, elapsed: stats.LastRunning.Sub(start)}

	evals, _, err := client.Evaluations().List(nil)
	if err != nil {
		return result{}, fmt.Errorf("list evaluations: %w", err)
	}
	lat := evalLatencies(evals, jobIDs)
	res.evalP50, res.evalP99 = percentile(lat, 50), percentile(lat, 99)
	rss, peak, err := srv.memory()
	if err != nil {
		return result{}, err
	}
	if opts.server.mode == "binary" && opts.server.memProfile != "" {
		if err := srv.profileHeap(ctx, opts.server.memProfile); err != nil {
			return result{}, fmt.Errorf("heap profile: %w", err)
		}
	}
	res.rssMB = rss
	log.Info("done", "evals", len(lat), "rss_peak_mb", fmt.Sprintf("%.0f", peak),
		"heartbeats", stats.Heartbeats, "alloc_queries", stats.Queries, "rpc_errors", stats.Errors)
	return res, nil
}

// submit registers the jobs through the HTTP API, parallel at a time, as
// fast as the server accepts them, and returns when the last was accepted.
func submit(ctx context.Context, client *api.Client, jobs []*api.Job, parallel int) (time.Time, error) {
	parallel = max(1, parallel)
	work := make(chan *api.Job)
	errc := make(chan error, parallel)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if _, _, err := client.Jobs().Register(j, nil); err != nil {
					errc <- fmt.Errorf("register job %s: %w", *j.ID, err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, j := range jobs {
		select {
		case work <- j:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return time.Now(), err
}

// evalFailure reports the first evaluation of the scenario's jobs that the
// server failed for good, with its reason (e.g. a job type the scheduler
// does not handle). A failed evaluation with a follow-up (NextEval) is
// retried by the server and is not an error.
func evalFailure(client *api.Client, jobs map[string]bool) error {
	evals, _, err := client.Evaluations().List(nil)
	if err != nil {
		return nil // a slow list is no reason to abort; the timeout still applies
	}
	for _, e := range evals {
		if jobs[e.JobID] && e.Status == api.EvalStatusFailed && e.NextEval == "" {
			return fmt.Errorf("the server failed evaluation %s of job %s (%s): %s", e.ID, e.JobID, e.Type, e.StatusDescription)
		}
	}
	return nil
}

// diagnose summarises what the server and the simulated nodes saw, for a
// scenario that did not finish.
func diagnose(client *api.Client, jobs map[string]bool, cluster *simnode.Cluster, srv *serverProc) string {
	st := cluster.Stats()
	parts := []string{fmt.Sprintf("nodes acknowledged %d running, %d rpc errors (last: %q)", st.Running, st.Errors, st.LastError)}
	if rss, peak, err := srv.memory(); err == nil {
		parts = append(parts, fmt.Sprintf("server rss_mb=%.0f peak_mb=%.0f", rss, peak))
	}
	if evals, _, err := client.Evaluations().List(nil); err == nil {
		count := map[string]int{}
		for _, e := range evals {
			if jobs[e.JobID] {
				count[e.Status]++
			}
		}
		var keys []string
		for k := range count {
			keys = append(keys, fmt.Sprintf("%s=%d", k, count[k]))
		}
		sort.Strings(keys)
		parts = append(parts, "evaluations "+strings.Join(keys, " "))
	}
	return strings.Join(parts, "; ")
}

// progress logs placements every 10 seconds and notices stalls.
type progress struct {
	log      hclog.Logger
	cluster  *simnode.Cluster
	start    time.Time
	lastLog  time.Time
	lastN    int64
	lastMove time.Time
}

func newProgress(log hclog.Logger, c *simnode.Cluster, start time.Time) *progress {
	return &progress{log: log, cluster: c, start: start, lastLog: start, lastMove: start}
}

func (p *progress) tick() {
	st := p.cluster.Stats()
	if st.Running != p.lastN {
		p.lastN, p.lastMove = st.Running, time.Now()
	}
	if time.Since(p.lastLog) >= 10*time.Second {
		p.lastLog = time.Now()
		el := time.Since(p.start).Seconds()
		p.log.Info("progress", "running", st.Running, "seconds", fmt.Sprintf("%.0f", el),
			"rate", fmt.Sprintf("%.0f", float64(st.Running)/el), "rpc_errors", st.Errors)
	}
}

func (p *progress) stalledFor() time.Duration { return time.Since(p.lastMove) }
