// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"

	"github.com/droverhq/drover/structs"
)

// This file is server membership, in place of serf: a small exchange
// protocol on the serf port. Each round, a server sends every server it
// knows (and, until one answers, every retry_join address) a message
// describing itself and the servers it has seen alive; the peer records
// the sender and answers in kind. Knowledge therefore spreads in a round
// or two, and a server's liveness is "answered one of my exchanges within
// failTimeout".
//
// Membership drives three things: bootstrapping (once bootstrap_expect
// servers that are in no cluster yet know each other, each bootstraps raft
// with the same configuration: all of them, sorted by ID), joining (the
// leader adds as voter every alive server of its region missing from the
// raft configuration, once it has been reachable for
// server_stabilization_time), and autopilot (see autopilot.go).
//
// Wire format: a plain TCP connection carrying one msgpack-encoded
// joinMessage each way, then closed.

// Member statuses, as Nomad's `server members` prints them.
const (
	MemberAlive  = "alive"
	MemberFailed = "failed"
	MemberLeft   = "left"
)

// DefaultSerfPort is the port retry_join addresses without one use.
const DefaultSerfPort = 4648

// Member is a server as membership knows it.
type Member struct {
	Name       string
	Region     string
	Datacenter string
	// ID is the server's raft ID.
	ID       string
	RPCAddr  string
	SerfAddr string
	Build    string
	// BootstrapExpect is the server's bootstrap_expect.
	BootstrapExpect int
	// Status is MemberAlive, MemberFailed or MemberLeft.
	Status string
}

// joinMessage is what two servers exchange.
type joinMessage struct {
	From Member
	// InCluster is true when the sender has a raft configuration (it
	// bootstrapped, was added, or restarted with state).
	InCluster bool
	// Known lists the servers the sender has seen alive.
	Known []Member
}

type memberState struct {
	Member
	inCluster bool
	lastSeen  time.Time // last successful exchange, zero if never
	firstSeen time.Time // start of the current run of successful exchanges
	left      bool      // removed from raft while failed
}

type membership struct {
	srv    *Server
	logger hclog.Logger
	ln     net.Listener
	self   Member
	join   []string

	mu        sync.Mutex
	members   map[string]*memberState // by name, self excluded
	inCluster bool
	joined    bool
}

// Build is reported in the member list's Build column.
var Build = "0.1.0-dev"

func newMembership(s *Server) (*membership, error) {
	m := &membership{
		srv:     s,
		logger:  s.cfg.Logger.Named("server.members"),
		members: map[string]*memberState{},
		self: Member{
			Name:            s.cfg.NodeName,
			Region:          s.cfg.Region,
			Datacenter:      s.cfg.Datacenter,
			ID:              s.cfg.NodeName,
			RPCAddr:         s.RPCAddr(),
			Build:           Build,
			BootstrapExpect: s.cfg.BootstrapExpect,
			Status:          MemberAlive,
		},
	}
	for _, a := range s.cfg.RetryJoin {
		addr, err := JoinAddr(a)
		if err != nil {
			return nil, err
		}
		m.join = append(m.join, addr)
	}
	if s.cfg.SerfAddr == "" {
		if len(m.join) > 0 {
			return nil, errors.New("retry_join needs a serf address to listen on")
		}
		return m, nil
	}
	ln, err := net.Listen("tcp", s.cfg.SerfAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for server membership on %s: %w", s.cfg.SerfAddr, err)
	}
	adv, err := advertiseAddr("serf", s.cfg.SerfAdvertise, ln.Addr())
	if err != nil {
		ln.Close()
		return nil, err
	}
	m.ln = ln
	m.self.SerfAddr = adv
	return m, nil
}

// JoinAddr normalises a retry_join entry: "host" gets the default serf
// port. Cloud auto-join ("provider=...") is not supported.
func JoinAddr(a string) (string, error) {
	a = strings.TrimSpace(a)
	if a == "" {
		return "", errors.New("retry_join: empty address")
	}
	if strings.Contains(a, "provider=") {
		return "", fmt.Errorf("retry_join %q: cloud auto-join is not supported; list server addresses", a)
	}
	if _, _, err := net.SplitHostPort(a); err == nil {
		return a, nil
	}
	return net.JoinHostPort(strings.Trim(a, "[]"), strconv.Itoa(DefaultSerfPort)), nil
}

func (m *membership) close() {
	if m.ln != nil {
		m.ln.Close()
	}
}

func (m *membership) setInCluster(v bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inCluster = v
}

// run serves the listener and runs exchange rounds until ctx ends.
func (m *membership) run(ctx context.Context) {
	defer m.srv.wg.Done()
	if m.ln == nil {
		return
	}
	go m.serve(ctx)
	t := time.NewTicker(m.srv.cfg.probeInterval)
	defer t.Stop()
	for {
		m.round(ctx)
		m.maybeBootstrap()
		if m.srv.IsLeader() {
			m.reconcile()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *membership) serve(ctx context.Context) {
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			m.logger.Warn("accept membership connection", "error", err)
			continue
		}
		go m.handle(conn)
	}
}

func (m *membership) handle(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var in joinMessage
	if err := codec.NewDecoder(conn, structs.MsgpackHandle).Decode(&in); err != nil {
		m.logger.Debug("read membership message", "remote", conn.RemoteAddr(), "error", err)
		return
	}
	m.observe(in)
	if err := codec.NewEncoder(conn, structs.MsgpackHandle).Encode(m.message()); err != nil {
		m.logger.Debug("answer membership message", "remote", conn.RemoteAddr(), "error", err)
	}
}

// message describes this server and the servers it sees alive.
func (m *membership) message() *joinMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &joinMessage{From: m.self, InCluster: m.inCluster || m.hasRaftConfig()}
	for _, ms := range m.members {
		if m.statusLocked(ms) == MemberAlive {
			out.Known = append(out.Known, ms.Member)
		}
	}
	return out
}

// hasRaftConfig reports whether raft knows any server (it is in a cluster).
func (m *membership) hasRaftConfig() bool {
	if m.srv.raft == nil {
		return false
	}
	f := m.srv.raft.GetConfiguration()
	return f.Error() == nil && len(f.Configuration().Servers) > 0
}

// observe records a successful exchange with in.From, and learns of the
// servers it knows.
func (m *membership) observe(in joinMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if in.From.Name == m.self.Name {
		if in.From.SerfAddr != m.self.SerfAddr {
			m.logger.Error("another server uses this server's name", "name", in.From.Name, "serf_addr", in.From.SerfAddr)
		}
	} else {
		ms, ok := m.members[in.From.Name]
		if !ok {
			ms = &memberState{}
			m.members[in.From.Name] = ms
			m.logger.Info("server joined", "name", in.From.Name, "rpc_addr", in.From.RPCAddr)
		}
		if ms.lastSeen.IsZero() || now.Sub(ms.lastSeen) > m.srv.cfg.failTimeout {
			ms.firstSeen = now
		}
		ms.Member = in.From
		ms.inCluster = in.InCluster
		ms.lastSeen = now
		ms.left = false
	}
	for _, k := range in.Known {
		if k.Name == m.self.Name || k.Name == "" {
			continue
		}
		if _, ok := m.members[k.Name]; !ok {
			k.Status = MemberFailed // until this server reaches it itself
			m.members[k.Name] = &memberState{Member: k}
		}
	}
}

func (m *membership) statusLocked(ms *memberState) string {
	if !ms.lastSeen.IsZero() && time.Since(ms.lastSeen) < m.srv.cfg.failTimeout {
		return MemberAlive
	}
	if ms.left {
		return MemberLeft
	}
	return MemberFailed
}

// round exchanges messages with every known server and, until one has
// answered, every retry_join address.
func (m *membership) round(ctx context.Context) {
	m.mu.Lock()
	targets := map[string]bool{}
	for _, ms := range m.members {
		if ms.SerfAddr != "" && ms.SerfAddr != m.self.SerfAddr {
			targets[ms.SerfAddr] = true
		}
	}
	joining := !m.joined
	if joining {
		for _, a := range m.join {
			if a != m.self.SerfAddr {
				targets[a] = true
			}
		}
	}
	m.mu.Unlock()
	msg := m.message()
	var wg sync.WaitGroup
	for addr := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := exchange(ctx, addr, msg, m.srv.cfg.probeInterval+2*time.Second)
			if err != nil {
				m.logger.Trace("membership exchange failed", "addr", addr, "error", err)
				return
			}
			m.observe(*reply)
			if joining {
				m.mu.Lock()
				if !m.joined {
					m.logger.Info("joined servers", "via", addr)
				}
				m.joined = true
				m.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// exchange sends msg to addr and reads the answer.
func exchange(ctx context.Context, addr string, msg *joinMessage, timeout time.Duration) (*joinMessage, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if err := codec.NewEncoder(conn, structs.MsgpackHandle).Encode(msg); err != nil {
		return nil, fmt.Errorf("send to %s: %w", addr, err)
	}
	var reply joinMessage
	if err := codec.NewDecoder(conn, structs.MsgpackHandle).Decode(&reply); err != nil {
		return nil, fmt.Errorf("read from %s: %w", addr, err)
	}
	return &reply, nil
}

// maybeBootstrap bootstraps raft once bootstrap_expect servers of this
// region that are in no cluster know each other.
func (m *membership) maybeBootstrap() {
	expect := m.srv.cfg.BootstrapExpect
	if expect <= 1 {
		return
	}
	m.mu.Lock()
	if m.inCluster || m.hasRaftConfig() {
		m.inCluster = true
		m.mu.Unlock()
		return
	}
	peers := []Member{m.self}
	for _, ms := range m.members {
		if ms.Region != m.self.Region || m.statusLocked(ms) != MemberAlive {
			continue
		}
		if ms.inCluster {
			// A cluster exists: its leader adds this server.
			m.mu.Unlock()
			return
		}
		if ms.BootstrapExpect != 0 && ms.BootstrapExpect != expect {
			m.logger.Error("servers disagree on bootstrap_expect; not bootstrapping",
				"self", expect, "peer", ms.Name, "peer_expect", ms.BootstrapExpect)
			m.mu.Unlock()
			return
		}
		peers = append(peers, ms.Member)
	}
	m.mu.Unlock()
	if len(peers) < expect {
		return
	}
	sort.Slice(peers, func(i, j int) bool { return peers[i].ID < peers[j].ID })
	var cfg raft.Configuration
	for _, p := range peers {
		cfg.Servers = append(cfg.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RPCAddr)})
	}
	err := m.srv.awaitRaft(m.srv.raft.BootstrapCluster(cfg))
	if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		m.logger.Error("bootstrap raft", "error", err)
		return
	}
	m.logger.Info("bootstrapped cluster", "servers", len(peers))
	m.setInCluster(true)
}

// reconcile, on the leader, adds alive servers of this region missing from
// the raft configuration as voters (after server_stabilization_time), and
// updates the address of voters that came back on a new one.
func (m *membership) reconcile() {
	f := m.srv.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		m.logger.Warn("read raft configuration", "error", err)
		return
	}
	inRaft := map[raft.ServerID]raft.ServerAddress{}
	for _, srv := range f.Configuration().Servers {
		inRaft[srv.ID] = srv.Address
	}
	m.mu.Lock()
	var add []Member
	for _, ms := range m.members {
		if ms.Region != m.self.Region || m.statusLocked(ms) != MemberAlive || ms.RPCAddr == "" {
			continue
		}
		addr, ok := inRaft[raft.ServerID(ms.ID)]
		switch {
		case ok && addr == raft.ServerAddress(ms.RPCAddr):
		case ok:
			add = append(add, ms.Member)
		case time.Since(ms.firstSeen) >= m.srv.cfg.Autopilot.ServerStabilizationTime:
			add = append(add, ms.Member)
		}
	}
	m.mu.Unlock()
	for _, mem := range add {
		m.logger.Info("adding server to raft", "name", mem.Name, "id", mem.ID, "rpc_addr", mem.RPCAddr)
		if err := m.srv.awaitRaft(m.srv.raft.AddVoter(raft.ServerID(mem.ID), raft.ServerAddress(mem.RPCAddr), 0, 10*time.Second)); err != nil {
			m.logger.Error("add server to raft", "name", mem.Name, "error", err)
		}
	}
}

// lastSeen returns when this server last exchanged with the server of the
// raft ID, and whether it knows that server at all.
func (m *membership) lastSeen(id string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ms := range m.members {
		if ms.ID == id {
			return ms.lastSeen, true
		}
	}
	return time.Time{}, false
}

// markLeft records that the server of the raft ID was removed from raft.
func (m *membership) markLeft(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ms := range m.members {
		if ms.ID == id {
			ms.left = true
		}
	}
}

// nameOf returns the member name ("name.region", as Nomad's serf names)
// of a raft ID, or "(unknown)".
func (m *membership) nameOf(id string) string {
	if id == m.self.ID {
		return m.self.Name + "." + m.self.Region
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ms := range m.members {
		if ms.ID == id {
			return ms.Name + "." + ms.Region
		}
	}
	return "(unknown)"
}

// list returns every known server, this one first, then by name.
func (m *membership) list() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.members)+1)
	for _, ms := range m.members {
		mem := ms.Member
		mem.Status = m.statusLocked(ms)
		out = append(out, mem)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return append([]Member{m.self}, out...)
}

// Members returns the servers this server knows, itself first. A server
// that is unreachable and no longer in the raft configuration (removed by
// remove-peer or autopilot) is reported as left.
func (s *Server) Members() []Member {
	list := s.members.list()
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return list
	}
	inRaft := map[raft.ServerID]bool{}
	for _, srv := range f.Configuration().Servers {
		inRaft[srv.ID] = true
	}
	for i := range list {
		if list[i].Status == MemberFailed && len(inRaft) > 0 && !inRaft[raft.ServerID(list[i].ID)] {
			list[i].Status = MemberLeft
		}
	}
	return list
}

// aliveRPCAddrs returns the RPC addresses of this region's alive servers,
// this one first: the server list handed to clients.
func (s *Server) aliveRPCAddrs() []string {
	var out []string
	for _, mem := range s.members.list() {
		if mem.Status == MemberAlive && mem.Region == s.cfg.Region && mem.RPCAddr != "" {
			out = append(out, mem.RPCAddr)
		}
	}
	return out
}
