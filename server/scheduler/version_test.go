// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import "testing"

func TestVersionConstraints(t *testing.T) {
	cases := []struct {
		version, constraint string
		semver, want        bool
	}{
		{"1.2.3", "= 1.2.3", false, true},
		{"1.2.3", "1.2.3", false, true},
		{"v1.2", "= 1.2.0", false, true},
		{"1.2.3", "!= 1.2.3", false, false},
		{"1.2.3", ">= 1.2, < 2.0", false, true},
		{"2.0.0", ">= 1.2, < 2.0", false, false},
		{"1.10.0", "> 1.9", false, true},
		{"1.2.3.4", "> 1.2.3", false, true},
		{"1.2.9", "~> 1.2.3", false, true},
		{"1.3.0", "~> 1.2.3", false, false},
		{"1.9.0", "~> 1.2", false, true},
		{"2.0.0", "~> 1.2", false, false},
		{"1.1.0", "~> 1.2", false, false},
		{"1.2.0-beta1", ">= 1.0", false, false},
		{"1.2.0-beta2", ">= 1.2.0-beta1", false, true},
		{"1.3.0-beta2", ">= 1.2.0-beta1", false, false},
		{"1.2.0beta1", "< 1.2.0-rc1", false, true},
		{"1.2.0+build5", "= 1.2.0", false, true},
		{"1.2.0-alpha.10", "> 1.2.0-alpha.9", false, true},
		{"1.2.0-alpha.beta", "> 1.2.0-alpha.1", false, true},
		{"garbage", ">= 1.0", false, false},
		{"1.2.0-beta1", ">= 1.0.0", true, true},
		{"1.2.0-beta1", "< 1.2.0", true, true},
		{"1.2.3", ">= 1.2.3, != 1.2.4", true, true},
		{"1.2.3.4", ">= 1.0.0", true, false},
		{"01.2.3", ">= 1.0.0", true, false},
		{"1.2.3beta", ">= 1.0.0", true, false},
	}
	for _, tc := range cases {
		vc, err := parseVersionConstraint(tc.constraint, tc.semver)
		if err != nil {
			t.Errorf("parse %q: %v", tc.constraint, err)
			continue
		}
		if got := vc.check(tc.version); got != tc.want {
			t.Errorf("%q %s (semver=%v) = %v, want %v", tc.version, tc.constraint, tc.semver, got, tc.want)
		}
	}
}

func TestVersionConstraintErrors(t *testing.T) {
	for _, tc := range []struct {
		s      string
		semver bool
	}{
		{"", false}, {">= 1.0,", false}, {">= a.b", false}, {"=> 1.0", false},
		{"~> 1.0", true}, {">= 1.0.0.0", true}, {">= 1.0.0-", true}, {">= 1.0.0+", false},
	} {
		if _, err := parseVersionConstraint(tc.s, tc.semver); err == nil {
			t.Errorf("parse %q (semver=%v) succeeded", tc.s, tc.semver)
		}
	}
}

func FuzzVersionConstraint(f *testing.F) {
	f.Add("1.2.3-beta.1+meta", ">= 1.0, < 2.0, ~> 1.2")
	f.Add("v10", "!= 1")
	f.Fuzz(func(t *testing.T, v, c string) {
		for _, semver := range []bool{false, true} {
			if vc, err := parseVersionConstraint(c, semver); err == nil {
				vc.check(v)
			}
		}
	})
}
