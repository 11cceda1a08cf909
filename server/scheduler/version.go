// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file implements the two version comparison operators of constraints.
//
// "version" follows the lenient syntax of HashiCorp's version constraints:
// an optional "v", any number of numeric segments (missing ones count as 0),
// an optional pre-release (after "-", or directly after the numbers as in
// "1.2.3beta1") and optional "+metadata", which is ignored when comparing.
// Constraints are comma-separated terms "OP VERSION" with OP one of =, !=,
// >, <, >=, <= and ~> (pessimistic: "~> 1.2" means ">= 1.2, < 2.0" and
// "~> 1.2.3" means ">= 1.2.3, < 1.3.0"). A pre-release version only satisfies
// an ordering term when the term itself names a pre-release of the same
// major.minor.patch, so ">= 1.0" does not admit "1.5.0-beta1".
//
// "semver" is strict Semantic Versioning 2.0: one to three numeric segments
// without leading zeros, pre-release only after "-", no "~>", and ordering by
// semver precedence alone (so ">= 1.0.0" admits "1.5.0-beta1").

import (
	"fmt"
	"strconv"
	"strings"
)

// version is a parsed version number.
type version struct {
	segments []int64
	pre      []string // pre-release identifiers, nil for a release
}

// versionTerm is one "OP VERSION" term of a constraint.
type versionTerm struct {
	op        string
	v         version
	specified int // segments written in the constraint, for ~>
}

// versionConstraint is a conjunction of terms.
type versionConstraint struct {
	terms  []versionTerm
	semver bool
}

// parseVersion parses a version in the lenient or the strict syntax.
func parseVersion(s string, strict bool) (version, int, error) {
	var v version
	orig := s
	s = strings.TrimSpace(s)
	if !strict || strings.HasPrefix(s, "v") {
		s = strings.TrimPrefix(s, "v")
	}
	// Numeric segments.
	specified := 0
	for {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return v, 0, fmt.Errorf("malformed version %q", orig)
		}
		if strict && i > 1 && s[0] == '0' {
			return v, 0, fmt.Errorf("malformed version %q: leading zero", orig)
		}
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return v, 0, fmt.Errorf("malformed version %q: %w", orig, err)
		}
		v.segments = append(v.segments, n)
		specified++
		s = s[i:]
		if len(s) > 1 && s[0] == '.' && s[1] >= '0' && s[1] <= '9' {
			s = s[1:]
			continue
		}
		break
	}
	if strict && specified > 3 {
		return v, 0, fmt.Errorf("malformed semantic version %q: more than three segments", orig)
	}
	for len(v.segments) < 3 {
		v.segments = append(v.segments, 0)
	}
	if meta := strings.IndexByte(s, '+'); meta >= 0 {
		if !validIdentifiers(s[meta+1:]) {
			return v, 0, fmt.Errorf("malformed version %q: bad build metadata", orig)
		}
		s = s[:meta]
	}
	if s == "" {
		return v, specified, nil
	}
	switch {
	case s[0] == '-':
		s = s[1:]
	case strict:
		return v, 0, fmt.Errorf("malformed semantic version %q", orig)
	case !isAlpha(s[0]):
		return v, 0, fmt.Errorf("malformed version %q", orig)
	}
	if !validIdentifiers(s) {
		return v, 0, fmt.Errorf("malformed version %q: bad pre-release", orig)
	}
	v.pre = strings.Split(s, ".")
	return v, specified, nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '~' }

// validIdentifiers checks dot-separated [0-9A-Za-z-~]+ identifiers.
func validIdentifiers(s string) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || isAlpha(c) || c == '-') {
				return false
			}
		}
	}
	return true
}

// compareVersions orders a and b: -1, 0 or 1. Segments are compared
// numerically, padded with zeros; a release is greater than any of its
// pre-releases; pre-releases compare identifier by identifier, numeric ones
// numerically and below alphanumeric ones.
func compareVersions(a, b version) int {
	n := max(len(a.segments), len(b.segments))
	for i := 0; i < n; i++ {
		var x, y int64
		if i < len(a.segments) {
			x = a.segments[i]
		}
		if i < len(b.segments) {
			y = b.segments[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case a.pre == nil && b.pre == nil:
		return 0
	case a.pre == nil:
		return 1
	case b.pre == nil:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		if c := compareIdentifier(a.pre[i], b.pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) < len(b.pre):
		return -1
	case len(a.pre) > len(b.pre):
		return 1
	}
	return 0
}

func compareIdentifier(a, b string) int {
	an, aerr := strconv.ParseUint(a, 10, 64)
	bn, berr := strconv.ParseUint(b, 10, 64)
	switch {
	case aerr == nil && berr == nil:
		if an < bn {
			return -1
		} else if an > bn {
			return 1
		}
		return 0
	case aerr == nil:
		return -1
	case berr == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// sameCore reports whether a and b share major.minor.patch and beyond.
func sameCore(a, b version) bool {
	n := max(len(a.segments), len(b.segments))
	for i := 0; i < n; i++ {
		var x, y int64
		if i < len(a.segments) {
			x = a.segments[i]
		}
		if i < len(b.segments) {
			y = b.segments[i]
		}
		if x != y {
			return false
		}
	}
	return true
}

// parseVersionConstraint parses "OP VERSION[, OP VERSION...]".
func parseVersionConstraint(s string, semver bool) (*versionConstraint, error) {
	vc := &versionConstraint{semver: semver}
	for _, raw := range strings.Split(s, ",") {
		term := strings.TrimSpace(raw)
		if term == "" {
			return nil, fmt.Errorf("malformed version constraint %q: empty term", s)
		}
		op := "="
		for _, candidate := range []string{">=", "<=", "!=", "~>", "=", ">", "<"} {
			if strings.HasPrefix(term, candidate) {
				op = candidate
				term = strings.TrimSpace(term[len(candidate):])
				break
			}
		}
		if semver && op == "~>" {
			return nil, fmt.Errorf("malformed semver constraint %q: the ~> operator is not supported", s)
		}
		v, specified, err := parseVersion(term, semver)
		if err != nil {
			return nil, fmt.Errorf("version constraint %q: %w", s, err)
		}
		vc.terms = append(vc.terms, versionTerm{op: op, v: v, specified: specified})
	}
	return vc, nil
}

// check reports whether raw satisfies every term. An unparsable version
// satisfies nothing.
func (vc *versionConstraint) check(raw string) bool {
	v, _, err := parseVersion(raw, vc.semver)
	if err != nil {
		return false
	}
	for _, t := range vc.terms {
		if !t.check(v, vc.semver) {
			return false
		}
	}
	return true
}

func (t versionTerm) check(v version, semver bool) bool {
	cmp := compareVersions(v, t.v)
	switch t.op {
	case "=":
		return cmp == 0
	case "!=":
		return cmp != 0
	}
	if !semver {
		// Pre-release admission rule of the lenient syntax.
		switch {
		case v.pre != nil && t.v.pre == nil:
			return false
		case v.pre != nil && t.v.pre != nil && !sameCore(v, t.v):
			return false
		}
	}
	switch t.op {
	case ">":
		return cmp > 0
	case "<":
		return cmp < 0
	case ">=":
		return cmp >= 0
	case "<=":
		return cmp <= 0
	case "~>":
		if t.v.pre != nil && v.pre == nil {
			return false
		}
		if cmp < 0 {
			return false
		}
		// All written segments but the last must match exactly.
		for i := 0; i < t.specified-1; i++ {
			var got int64
			if i < len(v.segments) {
				got = v.segments[i]
			}
			if got != t.v.segments[i] {
				return false
			}
		}
		return true
	}
	return false
}
