// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// namedFake is a fakeDriver under another name whose fingerprint names it,
// so a test can tell which driver of a shared process answered.
type namedFake struct {
	*fakeDriver
	name string
}

func newNamedFake(name string) *namedFake { return &namedFake{fakeDriver: newFakeDriver(), name: name} }

func (f *namedFake) Name() string { return f.name }

func (f *namedFake) Fingerprint(context.Context) (*Fingerprint, error) {
	return &Fingerprint{Health: HealthHealthy, Attributes: map[string]string{"driver." + f.name: "1"}}, nil
}

func TestNewDriverRouterRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		drivers []Driver
		want    string
	}{
		{"none", nil, "no drivers"},
		{"duplicate", []Driver{newNamedFake("a"), newNamedFake("a")}, `"a" given twice`},
		{"unnamed", []Driver{newNamedFake("")}, "has no name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newDriverRouter(tc.drivers)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("newDriverRouter error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDriverRouterPick(t *testing.T) {
	one, _ := newDriverRouter([]Driver{newNamedFake("a")})
	two, _ := newDriverRouter([]Driver{newNamedFake("a"), newNamedFake("b")})
	for _, tc := range []struct {
		name   string
		router *driverRouter
		md     []string // metadata key/value pairs
		want   string   // driver picked, or "" for an error
		code   codes.Code
	}{
		{"single driver, untagged call", one, nil, "a", codes.OK},
		{"single driver, its name", one, []string{DriverMetadataKey, "a"}, "a", codes.OK},
		{"single driver, another name", one, []string{DriverMetadataKey, "b"}, "", codes.FailedPrecondition},
		{"two drivers, first", two, []string{DriverMetadataKey, "a"}, "a", codes.OK},
		{"two drivers, second", two, []string{DriverMetadataKey, "b"}, "b", codes.OK},
		{"two drivers, untagged call", two, nil, "", codes.InvalidArgument},
		{"two drivers, unknown name", two, []string{DriverMetadataKey, "c"}, "", codes.FailedPrecondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.md != nil {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(tc.md...))
			}
			s, err := tc.router.pick(ctx)
			if tc.want == "" {
				if status.Code(err) != tc.code {
					t.Fatalf("pick error = %v, want code %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("pick: %v", err)
			}
			if got := s.impl.Name(); got != tc.want {
				t.Errorf("picked %q, want %q", got, tc.want)
			}
		})
	}
}
