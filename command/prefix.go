// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/droverhq/drover/api"
)

// sanitizeUUIDPrefix trims a UUID prefix to an even number of hex digits:
// the agent decodes UUID prefixes to bytes, so "8ba85ce" would be rejected
// while "8ba85c" matches the same objects.
func sanitizeUUIDPrefix(prefix string) string {
	digits := len(prefix) - strings.Count(prefix, "-")
	if digits%2 == 0 {
		return prefix
	}
	return prefix[:len(prefix)-1]
}

// looksLikeUUIDPrefix reports whether s could start a UUID, so that status
// lookups skip the alloc/node/eval tables for job names such as "web".
func looksLikeUUIDPrefix(s string) bool {
	if len(s) < 2 || len(s) > 36 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f', r == '-':
		default:
			return false
		}
	}
	return true
}

// ambiguousError is returned when an ID prefix matches several objects. Its
// message is the list of matches that Nomad prints in that case.
type ambiguousError struct {
	kind  string // "allocations", "jobs", ...
	table string
}

func (e *ambiguousError) Error() string {
	return fmt.Sprintf("Prefix matched multiple %s\n\n%s", e.kind, e.table)
}

// notFoundError is returned when an ID prefix matches nothing.
type notFoundError struct {
	kind   string // "allocation", "job", ...
	prefix string
}

func (e *notFoundError) Error() string {
	return fmt.Sprintf("No %s(s) with prefix or id %q found", e.kind, e.prefix)
}

// plainError is a message shown to the user as it is, without the
// "Error " prefix that reportErr puts before wrapped API errors.
type plainError string

func (e plainError) Error() string { return string(e) }

// reportErr prints err for the user and returns ExitError. Messages that
// are complete sentences (not found, ambiguous prefix) are printed as they
// are; others read "Error <what failed>: <cause>".
func (m *Meta) reportErr(err error) int {
	var (
		pe plainError
		ae *ambiguousError
		ne *notFoundError
	)
	if errors.As(err, &pe) || errors.As(err, &ae) || errors.As(err, &ne) {
		m.UI.Error(err.Error())
	} else {
		m.UI.Error("Error " + err.Error())
	}
	return ExitError
}

// checkIDPrefix rejects one-character prefixes the way Nomad does.
func checkIDPrefix(id string) error {
	if len(id) < 2 {
		return plainError("Identifier must contain at least two characters.")
	}
	return nil
}

// resolveJob returns the job stub that id names: the exact match if there is
// one, else the single job whose ID starts with id.
func (m *Meta) resolveJob(client *api.Client, id string) (*api.JobListStub, error) {
	jobs, _, err := client.Jobs().PrefixList(id)
	if err != nil {
		return nil, fmt.Errorf("querying job prefix %q: %w", id, err)
	}
	for _, j := range jobs {
		if j.ID == id {
			return j, nil
		}
	}
	switch len(jobs) {
	case 0:
		return nil, &notFoundError{kind: "job", prefix: id}
	case 1:
		return jobs[0], nil
	}
	return nil, &ambiguousError{kind: "jobs", table: m.formatJobList(jobs)}
}

// resolveAlloc returns the full ID of the allocation that prefix names.
func (m *Meta) resolveAlloc(client *api.Client, prefix string, verbose bool) (string, error) {
	if err := checkIDPrefix(prefix); err != nil {
		return "", err
	}
	allocs, _, err := client.Allocations().PrefixList(sanitizeUUIDPrefix(prefix))
	if err != nil {
		return "", fmt.Errorf("querying allocation prefix %q: %w", prefix, err)
	}
	allocs = filterPrefix(allocs, prefix, func(a *api.AllocationListStub) string { return a.ID })
	switch len(allocs) {
	case 0:
		return "", &notFoundError{kind: "allocation", prefix: prefix}
	case 1:
		return allocs[0].ID, nil
	}
	return "", &ambiguousError{kind: "allocations", table: m.formatAllocStubs(allocs, verbose, true)}
}

// clientForAlloc connects to the agent and resolves the allocation that
// prefix names: how every alloc command taking an allocation starts. Both
// failures are reported already when code is not ExitOK.
func (m *Meta) clientForAlloc(prefix string, verbose bool) (client *api.Client, id string, code int) {
	client = m.clientOrFail()
	if client == nil {
		return nil, "", ExitError
	}
	id, err := m.resolveAlloc(client, prefix, verbose)
	if err != nil {
		return nil, "", m.reportErr(err)
	}
	return client, id, ExitOK
}

// allocInfo reads the allocation id in full, for commands that need its
// tasks or node and not only its ID.
func allocInfo(client *api.Client, id string) (*api.Allocation, error) {
	alloc, _, err := client.Allocations().Info(id, nil)
	if err != nil {
		return nil, fmt.Errorf("querying allocation %q: %w", id, err)
	}
	return alloc, nil
}

// resolveNode returns the full ID of the node that prefix names.
func (m *Meta) resolveNode(client *api.Client, prefix string, verbose bool) (string, error) {
	if err := checkIDPrefix(prefix); err != nil {
		return "", err
	}
	nodes, _, err := client.Nodes().PrefixList(sanitizeUUIDPrefix(prefix))
	if err != nil {
		return "", fmt.Errorf("querying node prefix %q: %w", prefix, err)
	}
	nodes = filterPrefix(nodes, prefix, func(n *api.NodeListStub) string { return n.ID })
	switch len(nodes) {
	case 0:
		return "", &notFoundError{kind: "node", prefix: prefix}
	case 1:
		return nodes[0].ID, nil
	}
	return "", &ambiguousError{kind: "nodes", table: formatNodeList(nodes, verbose)}
}

// resolveEval returns the full ID of the evaluation that prefix names.
func (m *Meta) resolveEval(client *api.Client, prefix string, verbose bool) (string, error) {
	if err := checkIDPrefix(prefix); err != nil {
		return "", err
	}
	evals, _, err := client.Evaluations().PrefixList(sanitizeUUIDPrefix(prefix))
	if err != nil {
		return "", fmt.Errorf("querying evaluation prefix %q: %w", prefix, err)
	}
	evals = filterPrefix(evals, prefix, func(e *api.Evaluation) string { return e.ID })
	switch len(evals) {
	case 0:
		return "", &notFoundError{kind: "evaluation", prefix: prefix}
	case 1:
		return evals[0].ID, nil
	}
	return "", &ambiguousError{kind: "evaluations", table: m.formatEvalList(evals, verbose)}
}

// filterPrefix keeps the items whose ID starts with prefix: the agent was
// asked for a prefix trimmed to whole bytes, which can match more.
func filterPrefix[T any](items []T, prefix string, id func(T) string) []T {
	out := items[:0:0]
	for _, it := range items {
		if strings.HasPrefix(id(it), prefix) {
			out = append(out, it)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return id(out[i]) < id(out[j]) })
	return out
}
