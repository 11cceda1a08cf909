// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/droverhq/drover/structs"
)

// Snapshot archives (`operator snapshot save|restore|inspect`, GET/PUT
// /v1/operator/snapshot) are, like Nomad's, a gzipped tar of three files,
// in this order:
//
//	meta.json   raft's snapshot metadata (ID, Index, Term, Version, Size,
//	            the raft configuration), JSON
//	state.bin   the FSM snapshot: the msgpack-encoded state store dump
//	SHA256SUMS  "<hex sha256>  <name>" lines for the two files above
//
// Restore checks the sums before touching raft.

const (
	snapMetaFile  = "meta.json"
	snapStateFile = "state.bin"
	snapSumsFile  = "SHA256SUMS"
)

// maxSnapshotSize bounds what restore reads into memory.
const maxSnapshotSize = 1 << 30

// SnapshotInfo describes a snapshot archive.
type SnapshotInfo struct {
	ID      string
	Size    int64
	Index   uint64
	Term    uint64
	Version int
}

func infoOf(m *raft.SnapshotMeta) *SnapshotInfo {
	return &SnapshotInfo{ID: m.ID, Size: m.Size, Index: m.Index, Term: m.Term, Version: int(m.Version)}
}

// SaveSnapshot takes a raft snapshot of this server's state and writes it
// to w as an archive.
func (s *Server) SaveSnapshot(w io.Writer) (*SnapshotInfo, error) {
	f := s.raft.Snapshot()
	if err := s.awaitRaft(f); err != nil {
		return nil, fmt.Errorf("take snapshot: %w", err)
	}
	meta, rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	defer rc.Close()
	state, err := io.ReadAll(io.LimitReader(rc, maxSnapshotSize+1))
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if len(state) > maxSnapshotSize {
		return nil, fmt.Errorf("snapshot larger than %d bytes", maxSnapshotSize)
	}
	if err := writeArchive(w, meta, state); err != nil {
		return nil, err
	}
	return infoOf(meta), nil
}

func writeArchive(w io.Writer, meta *raft.SnapshotMeta, state []byte) error {
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("encode snapshot meta: %w", err)
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	now := time.Now()
	var sums strings.Builder
	for _, file := range []struct {
		name string
		data []byte
	}{{snapMetaFile, metaJSON}, {snapStateFile, state}} {
		sum := sha256.Sum256(file.data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), file.name)
		if err := writeTarFile(tw, file.name, file.data, now); err != nil {
			return err
		}
	}
	if err := writeTarFile(tw, snapSumsFile, []byte(sums.String()), now); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("close snapshot archive: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("close snapshot archive: %w", err)
	}
	return nil
}

func writeTarFile(tw *tar.Writer, name string, data []byte, mod time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: mod}); err != nil {
		return fmt.Errorf("write %s header: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// readArchive reads and verifies an archive.
func readArchive(r io.Reader) (*raft.SnapshotMeta, []byte, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot archive is not gzip: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read snapshot archive: %w", err)
		}
		if h.Size > maxSnapshotSize {
			return nil, nil, fmt.Errorf("snapshot archive: %s is larger than %d bytes", h.Name, maxSnapshotSize)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s from snapshot archive: %w", h.Name, err)
		}
		files[h.Name] = data
	}
	for _, name := range []string{snapMetaFile, snapStateFile, snapSumsFile} {
		if _, ok := files[name]; !ok {
			return nil, nil, fmt.Errorf("snapshot archive has no %s", name)
		}
	}
	if err := verifySums(files); err != nil {
		return nil, nil, err
	}
	var meta raft.SnapshotMeta
	if err := json.Unmarshal(files[snapMetaFile], &meta); err != nil {
		return nil, nil, fmt.Errorf("decode snapshot %s: %w", snapMetaFile, err)
	}
	if meta.Size != int64(len(files[snapStateFile])) {
		return nil, nil, fmt.Errorf("snapshot %s is %d bytes, its metadata says %d", snapStateFile, len(files[snapStateFile]), meta.Size)
	}
	return &meta, files[snapStateFile], nil
}

func verifySums(files map[string][]byte) error {
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(files[snapSumsFile]))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			return fmt.Errorf("snapshot %s: malformed line %q", snapSumsFile, sc.Text())
		}
		data, known := files[name]
		if !known {
			return fmt.Errorf("snapshot %s lists %s, which the archive lacks", snapSumsFile, name)
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != sum {
			return fmt.Errorf("snapshot %s: checksum mismatch: the archive is corrupt", name)
		}
		seen[name] = true
	}
	if !seen[snapMetaFile] || !seen[snapStateFile] {
		return fmt.Errorf("snapshot %s does not cover %s and %s", snapSumsFile, snapMetaFile, snapStateFile)
	}
	return nil
}

// InspectSnapshot reads and verifies an archive and describes it.
func InspectSnapshot(r io.Reader) (*SnapshotInfo, error) {
	meta, _, err := readArchive(r)
	if err != nil {
		return nil, err
	}
	return infoOf(meta), nil
}

// RestoreSnapshot replaces the cluster's state with an archive's, through
// the leader. It is for disaster recovery, as in Nomad: every server takes
// on the snapshot's state.
func (s *Server) RestoreSnapshot(r io.Reader) error {
	archive, err := io.ReadAll(io.LimitReader(r, maxSnapshotSize+1))
	if err != nil {
		return fmt.Errorf("read snapshot archive: %w", err)
	}
	if len(archive) > maxSnapshotSize {
		return fmt.Errorf("snapshot archive larger than %d bytes", maxSnapshotSize)
	}
	// Check it here, so a bad upload fails before it travels.
	if _, _, err := readArchive(bytes.NewReader(archive)); err != nil {
		return err
	}
	// A restore replaces the state of every server; when leadership moves
	// during it (a busy cluster can miss a heartbeat while it installs
	// the snapshot), the restore never committed and is safe to retry on
	// the new leader.
	for attempt := 0; attempt < 3; attempt++ {
		var reply structs.GenericResponse
		err = (&OperatorEndpoint{srv: s}).SnapshotRestore(&SnapshotRestoreArgs{Archive: archive}, &reply)
		if err == nil || !strings.Contains(err.Error(), raft.ErrLeadershipLost.Error()) {
			return err
		}
		s.logger.Warn("leadership moved during a snapshot restore, retrying", "attempt", attempt+1)
		time.Sleep(time.Second)
	}
	return err
}

// restoreLocal restores an archive on the leader, then rebuilds the
// leader's broker, blocked evaluations and heartbeat timers from the
// restored state.
func (s *Server) restoreLocal(r io.Reader) error {
	meta, state, err := readArchive(r)
	if err != nil {
		return err
	}
	if err := s.raft.Restore(meta, bytes.NewReader(state), time.Minute); err != nil {
		return fmt.Errorf("restore snapshot %s: %w", meta.ID, err)
	}
	s.revokeLeadership()
	if err := s.establishLeadership(); err != nil {
		return fmt.Errorf("re-establish leadership after restore: %w", err)
	}
	s.logger.Info("restored snapshot", "id", meta.ID, "index", meta.Index)
	return nil
}
