// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// unusableError marks a state file that exists but cannot be read back:
// Open moves it aside instead of failing.
type unusableError struct{ err error }

func (e *unusableError) Error() string { return e.err.Error() }
func (e *unusableError) Unwrap() error { return e.err }

func unusable(format string, args ...any) error {
	return &unusableError{err: fmt.Errorf(format, args...)}
}

// openAndLoad opens path and reads all of it back. Every way a file can be
// damaged (bad meta pages, a truncated file whose pages point past its
// end, a record that does not decode) ends up as an unusableError; a file
// locked by another process or not accessible is a plain error.
func openAndLoad(path string) (*bolt.DB, *Snapshot, error) {
	db, err := safeOpen(path)
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, nil, fmt.Errorf("open client state %s: file is locked, is another agent using this data dir? %w", path, err)
		case errors.Is(err, os.ErrPermission):
			return nil, nil, fmt.Errorf("open client state %s: %w", path, err)
		}
		return nil, nil, unusable("open %s: %w", path, err)
	}
	snap, err := safeLoad(db)
	if err != nil {
		_ = db.Close()
		return nil, nil, unusable("read %s: %w", path, err)
	}
	return db, snap, nil
}

// safeOpen opens the file; see safeLoad for why on a goroutine of its own.
// The freelist is kept in the file (no NoFreelistSync): rebuilding it at
// open time would scan pages on a bbolt goroutine, where a damaged page
// crashes the process.
func safeOpen(path string) (db *bolt.DB, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		debug.SetPanicOnFault(true)
		defer func() {
			if r := recover(); r != nil {
				db, err = nil, fmt.Errorf("damaged file: %v", r)
			}
		}()
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	}()
	<-done
	return db, err
}

// safeLoad checks and loads the file. bbolt reads pages straight from its
// memory map: a damaged file can make it panic, or touch memory past the
// end of a truncated file (SIGBUS). Both are turned into errors here, on
// a goroutine of our own that asks the runtime to panic on such faults
// instead of crashing the agent.
func safeLoad(db *bolt.DB) (snap *Snapshot, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		debug.SetPanicOnFault(true)
		defer func() {
			if r := recover(); r != nil {
				snap, err = nil, fmt.Errorf("damaged file: %v", r)
			}
		}()
		snap, err = load(db)
	}()
	<-done
	return snap, err
}

func load(db *bolt.DB) (*Snapshot, error) {
	snap := &Snapshot{Allocs: map[string]*AllocRecord{}, Drivers: map[string][]byte{}}
	err := db.Update(func(tx *bolt.Tx) error {
		var checkErr error
		for cerr := range tx.Check() { // drain: the checker blocks on a full channel
			checkErr = cmpOr(checkErr, cerr)
		}
		if checkErr != nil {
			return fmt.Errorf("consistency check: %w", checkErr)
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			// A new file: only ours if it is empty.
			for _, name := range allBuckets {
				if tx.Bucket(name) != nil {
					return fmt.Errorf("bucket %q present without %q: not a complete state file", name, bucketMeta)
				}
			}
			for _, name := range allBuckets {
				if _, err := tx.CreateBucket(name); err != nil {
					return fmt.Errorf("create bucket %q: %w", name, err)
				}
			}
			return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte(schemaVersion))
		}
		if v := string(meta.Get(keySchemaVersion)); v != schemaVersion {
			return fmt.Errorf("schema version %q, want %q", v, schemaVersion)
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("bucket %q missing", name)
			}
		}
		return loadRecords(tx, snap)
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

func loadRecords(tx *bolt.Tx, snap *Snapshot) error {
	err := tx.Bucket(bucketAllocs).ForEach(func(k, v []byte) error {
		var a structs.Allocation
		if err := decode(v, &a); err != nil {
			return fmt.Errorf("allocation %s: %w", k, err)
		}
		if a.ID != string(k) {
			return fmt.Errorf("allocation under key %s has ID %q", k, a.ID)
		}
		snap.Allocs[a.ID] = &AllocRecord{Alloc: &a, Tasks: map[string]*TaskRecord{}}
		return nil
	})
	if err != nil {
		return err
	}
	task := func(k []byte) (*TaskRecord, bool) {
		allocID, name, ok := strings.Cut(string(k), "/")
		ar := snap.Allocs[allocID]
		if !ok || ar == nil {
			return nil, false // left behind by a deleted allocation
		}
		tr := ar.Tasks[name]
		if tr == nil {
			tr = &TaskRecord{}
			ar.Tasks[name] = tr
		}
		return tr, true
	}
	err = tx.Bucket(bucketTaskStates).ForEach(func(k, v []byte) error {
		tr, ok := task(k)
		if !ok {
			return nil
		}
		tr.State = &structs.TaskState{}
		if err := decode(v, tr.State); err != nil {
			return fmt.Errorf("task state %s: %w", k, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketTaskHandles).ForEach(func(k, v []byte) error {
		tr, ok := task(k)
		if !ok {
			return nil
		}
		tr.Handle = &plugins.TaskHandle{}
		if err := decode(v, tr.Handle); err != nil {
			return fmt.Errorf("task handle %s: %w", k, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketDrivers).ForEach(func(k, v []byte) error {
		snap.Drivers[string(k)] = bytes.Clone(v)
		return nil
	})
}

// applyBatch writes a batch of pending writes in tx.
func applyBatch(tx *bolt.Tx, batch map[pendingKey]any) error {
	for k, v := range batch {
		if k.allocDelete {
			if err := deleteAlloc(tx, k.key); err != nil {
				return err
			}
			continue
		}
		b := tx.Bucket([]byte(k.bucket))
		if v == nil {
			if err := b.Delete([]byte(k.key)); err != nil {
				return fmt.Errorf("delete %s/%s: %w", k.bucket, k.key, err)
			}
			continue
		}
		var buf []byte
		if raw, ok := v.([]byte); ok {
			buf = raw
		} else {
			var err error
			if buf, err = encode(v); err != nil {
				return fmt.Errorf("encode %s/%s: %w", k.bucket, k.key, err)
			}
		}
		if err := b.Put([]byte(k.key), buf); err != nil {
			return fmt.Errorf("put %s/%s: %w", k.bucket, k.key, err)
		}
	}
	return nil
}

func deleteAlloc(tx *bolt.Tx, allocID string) error {
	if err := tx.Bucket(bucketAllocs).Delete([]byte(allocID)); err != nil {
		return fmt.Errorf("delete allocation %s: %w", allocID, err)
	}
	prefix := []byte(allocID + "/")
	for _, name := range [][]byte{bucketTaskStates, bucketTaskHandles} {
		c := tx.Bucket(name).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return fmt.Errorf("delete %s/%s: %w", name, k, err)
			}
		}
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func taskKey(allocID, task string) string { return allocID + "/" + task }

// allocOf is the allocation a pending write belongs to.
func allocOf(k pendingKey) string {
	id, _, _ := strings.Cut(k.key, "/")
	return id
}

// moveAside renames a damaged state file out of the way and returns its
// new name.
func moveAside(path string) (string, error) {
	aside := fmt.Sprintf("%s.corrupt-%s", path, time.Now().UTC().Format("20060102T150405.000000000Z"))
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	return aside, nil
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := codec.NewEncoder(&buf, structs.MsgpackHandle).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decode(b []byte, out any) error {
	return structs.Decode(b, out)
}
