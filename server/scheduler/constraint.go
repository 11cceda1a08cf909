// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file compiles job, group and task constraints once per evaluation and
// checks them against nodes. Compilation resolves the operator, the targets
// and any literal regular expression or version constraint up front, so the
// per-node check does no parsing and, for literal right-hand sides, no
// allocation.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/droverhq/drover/structs"
)

// Constraint operators, with Nomad's spellings.
const (
	opEqual          = "="
	opEqualAlt       = "=="
	opIs             = "is"
	opNotEqual       = "!="
	opNot            = "not"
	opLess           = "<"
	opLessEqual      = "<="
	opGreater        = ">"
	opGreaterEqual   = ">="
	opRegexp         = "regexp"
	opSetContains    = "set_contains"
	opSetContainsAll = "set_contains_all"
	opSetContainsAny = "set_contains_any"
	opVersion        = "version"
	opSemver         = "semver"
	opIsSet          = "is_set"
	opIsNotSet       = "is_not_set"
	opDistinctHosts  = "distinct_hosts"
	opDistinctProp   = "distinct_property"
)

// targetKind says where a constraint target's value comes from.
type targetKind uint8

const (
	targetLiteral targetKind = iota
	targetAttr
	targetMeta
	targetNodeID
	targetNodeName
	targetNodeDC
	targetNodeClass
	targetNodePool
	targetUnknown // an interpolation Drover does not know: never found
)

// target is a parsed LTarget or RTarget.
type target struct {
	kind targetKind
	key  string // attribute/meta key, or the literal
}

func parseTarget(s string) target {
	if !strings.HasPrefix(s, "${") || !strings.HasSuffix(s, "}") {
		return target{kind: targetLiteral, key: s}
	}
	inner := s[2 : len(s)-1]
	switch {
	case strings.HasPrefix(inner, "attr."):
		return target{kind: targetAttr, key: inner[len("attr."):]}
	case strings.HasPrefix(inner, "meta."):
		return target{kind: targetMeta, key: inner[len("meta."):]}
	case inner == "node.unique.id":
		return target{kind: targetNodeID}
	case inner == "node.unique.name":
		return target{kind: targetNodeName}
	case inner == "node.datacenter":
		return target{kind: targetNodeDC}
	case inner == "node.class":
		return target{kind: targetNodeClass}
	case inner == "node.pool":
		return target{kind: targetNodePool}
	}
	return target{kind: targetUnknown, key: inner}
}

// resolve returns the target's value on node and whether it is set.
func (t target) resolve(n *structs.Node) (string, bool) {
	switch t.kind {
	case targetLiteral:
		return t.key, true
	case targetAttr:
		v, ok := n.Attributes[t.key]
		return v, ok
	case targetMeta:
		v, ok := n.Meta[t.key]
		return v, ok
	case targetNodeID:
		return n.ID, true
	case targetNodeName:
		return n.Name, true
	case targetNodeDC:
		return n.Datacenter, true
	case targetNodeClass:
		return n.NodeClass, true
	case targetNodePool:
		return nodePool(n), true
	}
	return "", false
}

// constraint is a compiled structs.Constraint.
type constraint struct {
	key  string // metric key, Nomad's "LTarget Operand RTarget"
	op   string
	l, r target

	re      *regexp.Regexp     // regexp with a literal RTarget
	vc      *versionConstraint // version/semver with a literal RTarget
	set     []string           // set_* with a literal RTarget
	limit   int                // distinct_property: allocations per value
	enabled bool               // distinct_hosts: "true" (default) or "false"
}

// distinct reports whether the constraint depends on where other
// allocations are, so it must be checked at each placement.
func (c *constraint) distinct() bool { return c.op == opDistinctHosts || c.op == opDistinctProp }

func constraintKey(c *structs.Constraint) string {
	return c.LTarget + " " + c.Operand + " " + c.RTarget
}

// compileConstraint validates c; an unknown operator or a malformed literal
// right-hand side is an error, because no node could ever be judged by it.
func compileConstraint(c *structs.Constraint) (*constraint, error) {
	cc := &constraint{key: constraintKey(c), op: c.Operand, l: parseTarget(c.LTarget), r: parseTarget(c.RTarget)}
	literal := cc.r.kind == targetLiteral
	var err error
	switch c.Operand {
	case opEqual, opEqualAlt, opIs, opNotEqual, opNot, opLess, opLessEqual, opGreater, opGreaterEqual, opIsSet, opIsNotSet:
	case opRegexp:
		if literal {
			if cc.re, err = cachedRegexp(c.RTarget); err != nil {
				return nil, fmt.Errorf("constraint %q: %w", cc.key, err)
			}
		}
	case opSetContains, opSetContainsAll, opSetContainsAny:
		if literal {
			cc.set = splitSet(c.RTarget)
		}
	case opVersion, opSemver:
		if literal {
			if cc.vc, err = cachedVersionConstraint(c.RTarget, c.Operand == opSemver); err != nil {
				return nil, fmt.Errorf("constraint %q: %w", cc.key, err)
			}
		}
	case opDistinctHosts:
		cc.enabled = true
		if c.RTarget != "" {
			if cc.enabled, err = strconv.ParseBool(c.RTarget); err != nil {
				return nil, fmt.Errorf("constraint %q: value must be a boolean: %w", cc.key, err)
			}
		}
	case opDistinctProp:
		if c.LTarget == "" {
			return nil, fmt.Errorf("constraint %q: distinct_property needs an attribute", cc.key)
		}
		cc.limit = 1
		if c.RTarget != "" {
			if cc.limit, err = strconv.Atoi(c.RTarget); err != nil || cc.limit < 1 {
				return nil, fmt.Errorf("constraint %q: value must be a positive integer", cc.key)
			}
		}
	default:
		return nil, fmt.Errorf("constraint %q: unknown operator %q", cc.key, c.Operand)
	}
	return cc, nil
}

// check evaluates a non-distinct constraint on node.
func (c *constraint) check(n *structs.Node) bool {
	lv, lok := c.l.resolve(n)
	switch c.op {
	case opIsSet:
		return lok
	case opIsNotSet:
		return !lok
	}
	rv, rok := c.r.resolve(n)
	switch c.op {
	case opEqual, opEqualAlt, opIs:
		return lok && rok && lv == rv
	case opNotEqual, opNot:
		// A missing value differs from any set value.
		return lok != rok || lv != rv
	}
	if !lok || !rok {
		return false
	}
	switch c.op {
	case opLess, opLessEqual, opGreater, opGreaterEqual:
		return checkOrder(c.op, lv, rv)
	case opRegexp:
		re := c.re
		if re == nil {
			var err error
			if re, err = cachedRegexp(rv); err != nil {
				return false
			}
		}
		return re.MatchString(lv)
	case opSetContains, opSetContainsAll, opSetContainsAny:
		want := c.set
		if want == nil {
			want = splitSet(rv)
		}
		return checkSet(c.op == opSetContainsAny, lv, want)
	case opVersion, opSemver:
		vc := c.vc
		if vc == nil {
			var err error
			if vc, err = cachedVersionConstraint(rv, c.op == opSemver); err != nil {
				return false
			}
		}
		return vc.check(lv)
	}
	return false
}

// checkOrder compares numerically when both sides are numbers, otherwise
// lexically.
func checkOrder(op, l, r string) bool {
	cmp := 0
	lf, lerr := strconv.ParseFloat(l, 64)
	rf, rerr := strconv.ParseFloat(r, 64)
	if lerr == nil && rerr == nil {
		switch {
		case lf < rf:
			cmp = -1
		case lf > rf:
			cmp = 1
		}
	} else {
		cmp = strings.Compare(l, r)
	}
	switch op {
	case opLess:
		return cmp < 0
	case opLessEqual:
		return cmp <= 0
	case opGreater:
		return cmp > 0
	default:
		return cmp >= 0
	}
}

func splitSet(s string) []string {
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkSet reports whether the comma list have holds all (or, with anyOf,
// at least one) of want. It scans have without allocating.
func checkSet(anyOf bool, have string, want []string) bool {
	for _, w := range want {
		found := setHas(have, w)
		if anyOf && found {
			return true
		}
		if !anyOf && !found {
			return false
		}
	}
	return !anyOf
}

func setHas(have, w string) bool {
	for rest := have; ; {
		item, tail, more := strings.Cut(rest, ",")
		if strings.TrimSpace(item) == w {
			return true
		}
		if !more {
			return false
		}
		rest = tail
	}
}

// Caches of compiled regular expressions and version constraints, shared
// by every evaluation: the same few job files are scheduled again and again.
// They are bounded by dropping everything when full, which is cheap and
// keeps the working set.
const compileCacheSize = 1024

var (
	compileMu    sync.Mutex
	regexpCache  = map[string]*regexp.Regexp{}
	versionCache = map[string]*versionConstraint{}
)

func cachedRegexp(s string) (*regexp.Regexp, error) {
	compileMu.Lock()
	re, ok := regexpCache[s]
	compileMu.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("compile regexp %q: %w", s, err)
	}
	compileMu.Lock()
	if len(regexpCache) >= compileCacheSize {
		clear(regexpCache)
	}
	regexpCache[s] = re
	compileMu.Unlock()
	return re, nil
}

func cachedVersionConstraint(s string, semver bool) (*versionConstraint, error) {
	key := "v:" + s
	if semver {
		key = "s:" + s
	}
	compileMu.Lock()
	vc, ok := versionCache[key]
	compileMu.Unlock()
	if ok {
		return vc, nil
	}
	vc, err := parseVersionConstraint(s, semver)
	if err != nil {
		return nil, err
	}
	compileMu.Lock()
	if len(versionCache) >= compileCacheSize {
		clear(versionCache)
	}
	versionCache[key] = vc
	compileMu.Unlock()
	return vc, nil
}
