// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

// NodePoolEndpoint writes node pools through the leader, and the checks a
// job must pass against pools and the scheduler configuration before it
// is registered. Reads are served by the HTTP layer from any server's
// state (state.Snapshot.NodePools and friends).

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// NodePoolEndpoint is the RPC surface of node pool writes.
type NodePoolEndpoint struct {
	srv *Server
}

// NodePoolUpsertArgs creates or replaces node pools.
type NodePoolUpsertArgs struct {
	NodePools []*structs.NodePool
}

// NodePoolDeleteArgs deletes node pools by name.
type NodePoolDeleteArgs struct {
	Names []string
}

// Errors of pool writes, as text too: errors forwarded from the leader
// arrive as strings, so callers match ErrNodePoolNotFoundText.
var (
	// ErrNodePoolBuiltin refuses to change or delete "default" or "all".
	ErrNodePoolBuiltin = errors.New("built-in node pools cannot be modified or deleted")
	// ErrNodePoolNotFoundText is the text of state.ErrNodePoolNotFound.
	ErrNodePoolNotFoundText = state.ErrNodePoolNotFound.Error()
)

// Upsert creates or replaces node pools.
func (n *NodePoolEndpoint) Upsert(args *NodePoolUpsertArgs, reply *structs.GenericResponse) error {
	if done, err := n.srv.forward("NodePool.Upsert", args, reply); done {
		return err
	}
	if len(args.NodePools) == 0 {
		return errors.New("upsert node pools: no node pool given")
	}
	for _, p := range args.NodePools {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("invalid node pool: %w", err)
		}
		if structs.IsBuiltinNodePool(p.Name) {
			return fmt.Errorf("node pool %q: %w", p.Name, ErrNodePoolBuiltin)
		}
	}
	index, err := n.srv.raftApply(structs.NodePoolUpsertRequestType, &structs.NodePoolUpsertRequest{NodePools: args.NodePools})
	if err != nil {
		return fmt.Errorf("upsert node pools: %w", err)
	}
	reply.Index = index
	return nil
}

// Delete deletes node pools; one that is built in, unknown or in use by
// nodes or live jobs is refused with an error that names them.
func (n *NodePoolEndpoint) Delete(args *NodePoolDeleteArgs, reply *structs.GenericResponse) error {
	if done, err := n.srv.forward("NodePool.Delete", args, reply); done {
		return err
	}
	if len(args.Names) == 0 {
		return errors.New("delete node pools: no node pool named")
	}
	snap := n.srv.state.Snapshot()
	for _, name := range args.Names {
		if structs.IsBuiltinNodePool(name) {
			return fmt.Errorf("node pool %q: %w", name, ErrNodePoolBuiltin)
		}
		// Checked here for a prompt answer; the FSM checks again
		// against the state the delete is applied to.
		if err := snap.NodePoolInUse(name); err != nil {
			return err
		}
	}
	index, err := n.srv.raftApply(structs.NodePoolDeleteRequestType, &structs.NodePoolDeleteRequest{Names: args.Names})
	if err != nil {
		return fmt.Errorf("delete node pools: %w", err)
	}
	reply.Index = index
	return nil
}

// UpsertNodePools creates or replaces pools through the leader and waits
// until this server's state has them.
func (s *Server) UpsertNodePools(pools []*structs.NodePool) (uint64, error) {
	var reply structs.GenericResponse
	if err := (&NodePoolEndpoint{srv: s}).Upsert(&NodePoolUpsertArgs{NodePools: pools}, &reply); err != nil {
		return 0, err
	}
	return reply.Index, s.waitTable(reply.Index, state.TableNodePools)
}

// DeleteNodePools deletes pools through the leader and waits until this
// server's state no longer has them.
func (s *Server) DeleteNodePools(names []string) (uint64, error) {
	var reply structs.GenericResponse
	if err := (&NodePoolEndpoint{srv: s}).Delete(&NodePoolDeleteArgs{Names: names}, &reply); err != nil {
		return 0, err
	}
	return reply.Index, s.waitTable(reply.Index, state.TableNodePools)
}

// IsNodePoolNotFound reports whether err (possibly forwarded as text)
// says a pool does not exist.
func IsNodePoolNotFound(err error) bool {
	return err != nil && (errors.Is(err, state.ErrNodePoolNotFound) || strings.Contains(err.Error(), ErrNodePoolNotFoundText))
}

// waitTable waits until table's index in the local state reaches index.
// The write paths of this file use it rather than waitApplied, whose
// latest-index covers only the job, eval, alloc and node tables.
func (s *Server) waitTable(index uint64, table string) error {
	ctx, cancel := context.WithTimeout(s.ctx, applyWait)
	defer cancel()
	got, err := s.state.BlockingQuery(ctx, index-1, func(snap *stateSnapshot) (uint64, error) {
		return snap.Index(table)
	})
	if err != nil {
		return err
	}
	if got < index {
		return fmt.Errorf("wait for local state to apply index %d of %s (at %d): %w", index, table, got, ctx.Err())
	}
	return nil
}

// ErrJobRegistrationDisabled is Nomad's refusal while the scheduler
// configuration rejects job registrations.
var ErrJobRegistrationDisabled = errors.New("job registration, dispatch, and scale are disabled by the scheduler configuration")

// admitJob checks a job against the cluster before it is registered: the
// operator may have stopped registrations, its node pool must exist
// (Nomad's rule: pools are created by operators or by nodes, never by
// jobs). memory_max without memory oversubscription is accepted, as in
// Nomad, with a warning (JobWarnings), and the scheduler does not reserve
// it.
func (s *Server) admitJob(job *structs.Job) error {
	snap := s.state.Snapshot()
	cfg, err := snap.SchedulerConfig()
	if err != nil {
		return fmt.Errorf("register job %q: %w", job.ID, err)
	}
	if cfg.RejectJobRegistration {
		return fmt.Errorf("register job %q: %w", job.ID, ErrJobRegistrationDisabled)
	}
	poolName := jobPoolName(job)
	pool, err := snap.NodePoolByName(poolName)
	if err != nil {
		return fmt.Errorf("register job %q: %w", job.ID, err)
	}
	if pool == nil {
		return fmt.Errorf("register job %q: %s %q; create it with `drover node pool apply` or register a node in it", job.ID, errNonexistentPool, poolName)
	}
	return nil
}

// errNonexistentPool marks the refusal of a job whose node pool does not
// exist; it is matched by text because errors cross forwarding RPCs as
// strings.
const errNonexistentPool = "job is in nonexistent node pool"

// IsJobRefusedError reports whether err is admitJob's refusal of a job
// (registrations disabled, unknown node pool): the caller's mistake or an
// operator's decision, not a server failure.
func IsJobRefusedError(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, ErrJobRegistrationDisabled.Error()) || strings.Contains(msg, errNonexistentPool)
}

// JobWarnings returns what registering job would silently change, as
// Nomad's registration warnings: memory_max is ignored unless memory
// oversubscription is enabled for the job's pool. It reads this server's
// state, which is good enough for advice.
func (s *Server) JobWarnings(job *structs.Job) string {
	snap := s.state.Snapshot()
	cfg, err := snap.SchedulerConfig()
	if err != nil {
		return ""
	}
	pool, err := snap.NodePoolByName(jobPoolName(job))
	if err != nil || cfg.MemoryOversubscription(pool) {
		return ""
	}
	var over []string
	for _, tg := range job.TaskGroups {
		for _, t := range tg.Tasks {
			if t.Resources != nil && t.Resources.MemoryMaxMB > t.Resources.MemoryMB {
				over = append(over, fmt.Sprintf("%s/%s", tg.Name, t.Name))
			}
		}
	}
	if len(over) == 0 {
		return ""
	}
	return fmt.Sprintf("* Memory oversubscription is not enabled; memory_max is ignored for task(s) %s (enable it with `drover operator scheduler set-config -memory-oversubscription=true`)", strings.Join(over, ", "))
}

// jobPoolName is the job's node pool, "default" when unset.
func jobPoolName(job *structs.Job) string {
	if job.NodePool == "" {
		return structs.DefaultNodePool
	}
	return job.NodePool
}
