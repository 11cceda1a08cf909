// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package state keeps the client's local state in one bbolt file
// (<data_dir>/client/state.db), so that an agent restarted after a crash
// or an upgrade finds its allocations, reattaches to its driver plugins and
// recovers its running tasks instead of starting them again.
//
// Writes are small (one task event) and frequent. Callers never touch the
// disk: Put* and Delete* record the latest value of a key in memory, and a
// single writer goroutine commits everything pending in one transaction
// every FlushInterval. Sync waits for a commit, for the few writes that
// must be durable before the caller goes on (a task handle right after the
// driver started the task).
package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"

	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// DefaultFlushInterval is how long a write may wait to be batched with
// others before it is committed.
const DefaultFlushInterval = 100 * time.Millisecond

// lockTimeout bounds the wait for bbolt's file lock: another agent using
// the same data dir must be an error, not a hang.
const lockTimeout = 5 * time.Second

// Bucket names. Task keys are "<alloc id>/<task name>".
var (
	bucketMeta        = []byte("meta")
	bucketAllocs      = []byte("allocs")
	bucketTaskStates  = []byte("task_states")
	bucketTaskHandles = []byte("task_handles")
	bucketDrivers     = []byte("drivers")
	keySchemaVersion  = []byte("schema_version")
	allBuckets        = [][]byte{bucketMeta, bucketAllocs, bucketTaskStates, bucketTaskHandles, bucketDrivers}
)

// schemaVersion is written into the meta bucket; a file with another
// version is treated like a corrupted one.
const schemaVersion = "1"

// Snapshot is everything the store held when it was opened.
type Snapshot struct {
	// Allocs are the allocations the client ran, by ID.
	Allocs map[string]*AllocRecord
	// Drivers are the plugins' reattach configs
	// (plugins.MarshalReattachConfig), by driver name.
	Drivers map[string][]byte
}

// AllocRecord is one allocation and its tasks' saved state.
type AllocRecord struct {
	// Alloc is the allocation as the servers last sent it, with its job.
	Alloc *structs.Allocation
	// Tasks are the saved tasks, by task name.
	Tasks map[string]*TaskRecord
}

// TaskRecord is one task's saved state.
type TaskRecord struct {
	State *structs.TaskState
	// Handle is the running attempt's driver handle; nil when no attempt
	// was running.
	Handle *plugins.TaskHandle
}

// DB is the client's state store. It is safe for concurrent use.
type DB struct {
	path     string
	db       *bolt.DB
	logger   hclog.Logger
	interval time.Duration

	mu      sync.Mutex
	pending map[pendingKey]any // value to put, or nil to delete
	deleted map[string]bool    // allocations deleted: late writes are dropped
	waiters []chan error       // Sync calls waiting for the next commit
	closed  bool

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

type pendingKey struct {
	bucket string
	key    string
	// allocDelete marks the removal of an allocation and all its tasks.
	allocDelete bool
}

// Options tune Open; the zero value is fine.
type Options struct {
	// FlushInterval defaults to DefaultFlushInterval.
	FlushInterval time.Duration
	Logger        hclog.Logger
}

// Open opens (or creates) the state file at path and loads it. A file that
// cannot be read back whole (garbage, truncated, written by an unknown
// version) is logged with its path, moved aside to
// "<path>.corrupt-<time>" and replaced by an empty one: the servers then
// tell the client which allocations it should have. Errors are returned
// only when no usable store can be had at all (no permission, file locked
// by another agent).
func Open(path string, opts Options) (*DB, *Snapshot, error) {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	logger = logger.Named("state")
	interval := opts.FlushInterval
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	bdb, snap, err := openAndLoad(path)
	if err != nil {
		var unusable *unusableError
		if !errors.As(err, &unusable) {
			return nil, nil, err
		}
		aside, mvErr := moveAside(path)
		if mvErr != nil {
			return nil, nil, fmt.Errorf("client state %s is unreadable (%v) and could not be moved aside: %w", path, err, mvErr)
		}
		logger.Error("client state file is corrupted or incomplete: moved it aside and starting with empty state; the servers will resend this node's allocations",
			"path", path, "moved_to", aside, "error", unusable.err)
		if bdb, snap, err = openAndLoad(path); err != nil {
			return nil, nil, fmt.Errorf("create fresh client state %s: %w", path, err)
		}
	}
	d := &DB{
		path:     path,
		db:       bdb,
		logger:   logger,
		interval: interval,
		pending:  map[pendingKey]any{},
		deleted:  map[string]bool{},
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go d.writer()
	logger.Debug("client state loaded", "path", path, "allocs", len(snap.Allocs), "drivers", len(snap.Drivers))
	return d, snap, nil
}

// Path is the state file's path.
func (d *DB) Path() string { return d.path }

// PutAlloc saves the allocation (with its job). The store keeps a
// reference: the caller must not modify a after the call.
func (d *DB) PutAlloc(a *structs.Allocation) {
	d.put(bucketAllocs, a.ID, a.ID, a)
}

// PutTaskState saves a task's state. The caller hands st over and must
// not modify it after the call.
func (d *DB) PutTaskState(allocID, task string, st *structs.TaskState) {
	d.put(bucketTaskStates, allocID, taskKey(allocID, task), st)
}

// PutTaskHandle saves the handle of a task's running attempt; nil removes
// it (the attempt ended). The caller must not modify h after the call.
func (d *DB) PutTaskHandle(allocID, task string, h *plugins.TaskHandle) {
	if h == nil {
		d.put(bucketTaskHandles, allocID, taskKey(allocID, task), nil)
		return
	}
	d.put(bucketTaskHandles, allocID, taskKey(allocID, task), h)
}

// PutDriver saves a driver plugin's reattach config
// (plugins.MarshalReattachConfig); nil removes it.
func (d *DB) PutDriver(name string, reattach []byte) {
	var v any
	if reattach != nil {
		v = reattach
	}
	d.put(bucketDrivers, "", name, v)
}

// DeleteAlloc removes an allocation and everything saved for its tasks.
// Writes for it that arrive later (a task dying after its allocation was
// garbage collected) are dropped.
func (d *DB) DeleteAlloc(allocID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.deleted[allocID] = true
	for k := range d.pending {
		if k.bucket != string(bucketDrivers) && allocOf(k) == allocID {
			delete(d.pending, k)
		}
	}
	d.pending[pendingKey{key: allocID, allocDelete: true}] = nil
	d.signal()
}

func (d *DB) put(bucket []byte, allocID, key string, v any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || (allocID != "" && d.deleted[allocID]) {
		return
	}
	d.pending[pendingKey{bucket: string(bucket), key: key}] = v
}

// signal wakes the writer for an immediate commit; d.mu must be held.
func (d *DB) signal() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Sync commits everything written so far and waits for the commit, or
// for ctx to end.
func (d *DB) Sync(ctx context.Context) error {
	ch := make(chan error, 1)
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return fmt.Errorf("client state %s: closed", d.path)
	}
	d.waiters = append(d.waiters, ch)
	d.signal()
	d.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("sync client state %s: %w", d.path, ctx.Err())
	}
}

// Close commits what is pending and closes the file.
func (d *DB) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	close(d.stop)
	<-d.done
	err := d.commit()
	return errors.Join(err, d.db.Close())
}

// writer commits pending writes every interval, or at once when asked.
func (d *DB) writer() {
	defer close(d.done)
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
		case <-d.kick:
		}
		if err := d.commit(); err != nil {
			d.logger.Error("failed to write client state", "path", d.path, "error", err)
		}
	}
}

// commit writes everything pending in one transaction and answers the Sync
// calls that were waiting. On failure the writes are put back (unless
// newer ones replaced them) for the next attempt.
func (d *DB) commit() error {
	d.mu.Lock()
	batch, waiters := d.pending, d.waiters
	d.pending, d.waiters = map[pendingKey]any{}, nil
	d.mu.Unlock()
	if len(batch) == 0 {
		for _, w := range waiters {
			w <- nil
		}
		return nil
	}
	err := d.db.Update(func(tx *bolt.Tx) error { return applyBatch(tx, batch) })
	if err != nil {
		err = fmt.Errorf("commit %d writes to %s: %w", len(batch), d.path, err)
		d.mu.Lock()
		for k, v := range batch {
			_, newer := d.pending[k]
			dropped := k.bucket != string(bucketDrivers) && !k.allocDelete && d.deleted[allocOf(k)]
			if !newer && !dropped {
				d.pending[k] = v
			}
		}
		d.mu.Unlock()
	}
	for _, w := range waiters {
		w <- err
	}
	return err
}
