// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestParseBrokenGolden parses each job file in testdata/broken, which
// must fail, and compares the error text with its .golden.err file. Every
// line must name its place as file:line:col. Run with -update to rewrite
// the goldens after reviewing the change.
func TestParseBrokenGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.nomad.hcl")
	if err != nil || len(files) < 5 {
		t.Fatalf("broken files: %v %v", files, err)
	}
	place := regexp.MustCompile(`^testdata/broken/[^:]+\.nomad\.hcl:\d+:\d+: `)
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			_, err := ParseFile(name, nil)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("want *Error, got %T: %v", err, err)
			}
			got := []byte(err.Error() + "\n")
			for _, line := range strings.Split(err.Error(), "\n") {
				if !place.MatchString(line) {
					t.Errorf("error line does not name its place: %q", line)
				}
			}
			golden := name + ".golden.err"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("errors differ from %s:\n%s", golden, got)
			}
		})
	}
}

// TestDynamicBlocks covers what the golden corpus does not show well: the
// iteration order and keys of each collection kind, labels in free-form
// policy blocks, and the budget on generated blocks.
func TestDynamicBlocks(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		check func(t *testing.T, meta map[string]string, tags []string)
		err   string
	}{
		{
			name: "list keys are indexes",
			src: `dynamic "service" {
  for_each = ["a", "b"]
  content { tags = ["${service.key}=${service.value}"] }
}`,
			check: func(t *testing.T, _ map[string]string, tags []string) {
				if strings.Join(tags, ",") != "0=a,1=b" {
					t.Fatalf("tags %v", tags)
				}
			},
		},
		{
			name: "set keys are the values",
			src: `dynamic "service" {
  for_each = toset(["b", "a"])
  content { tags = ["${service.key}=${service.value}"] }
}`,
			check: func(t *testing.T, _ map[string]string, tags []string) {
				if strings.Join(tags, ",") != "a=a,b=b" {
					t.Fatalf("tags %v", tags)
				}
			},
		},
		{
			name: "map keys in lexical order, nested iterators see the outer one",
			src: `dynamic "service" {
  for_each = { z = ["1"], y = ["2", "3"] }
  iterator = s
  content {
    dynamic "check" {
      for_each = s.value
      content {
        type = "tcp"
        name = "${s.key}-${check.value}"
      }
    }
    tags = [s.key]
  }
}`,
			check: func(t *testing.T, _ map[string]string, tags []string) {
				if strings.Join(tags, ",") != "y,z" {
					t.Fatalf("tags %v", tags)
				}
			},
		},
		{
			name: "empty collection generates nothing",
			src: `dynamic "service" {
  for_each = {}
  content {}
}
meta { n = "none" }`,
			check: func(t *testing.T, meta map[string]string, tags []string) {
				if tags != nil || meta["n"] != "none" {
					t.Fatalf("tags %v meta %v", tags, meta)
				}
			},
		},
		{
			name: "budget",
			src: `dynamic "service" {
  for_each = range(150)
  content {
    dynamic "check" {
      for_each = range(100)
      content {}
    }
  }
}`,
			err: "Too many dynamic blocks",
		},
		{
			name: "evaluation budget",
			src:  "dynamic \"service\" {\n  for_each = range(100)\n  content {\n    tags = [replace(format(\"%9999s\", \"\"), \" \", format(\"%70s\", \"\"))]\n  }\n}",
			err:  "d.hcl:6:12: Job file too large when evaluated",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "job \"x\" {\n  group \"g\" {\n" + tc.src + "\n  }\n}\n"
			job, err := Parse("d.hcl", []byte(src), nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want %q once", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := job.TaskGroups[0]
			var tags []string
			for _, s := range g.Services {
				tags = append(tags, s.Tags...)
			}
			tc.check(t, g.Meta, tags)
		})
	}
}

// TestDynamicNestedCheckNames checks iterator shadowing inside nested
// blocks and dynamic blocks with labels inside a free-form scaling policy.
func TestDynamicNestedCheckNames(t *testing.T) {
	src := `job "x" {
  group "g" {
    dynamic "service" {
      for_each = ["outer"]
      iterator = x
      content {
        dynamic "check" {
          for_each = ["inner"]
          iterator = x
          content {
            name = x.value
            type = "tcp"
          }
        }
      }
    }
    scaling {
      policy {
        dynamic "check" {
          for_each = { cpu = 70, mem = 80 }
          labels   = [check.key]
          content {
            strategy "target-value" {
              target = check.value
            }
          }
        }
      }
    }
  }
}`
	job, err := Parse("d.hcl", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	g := job.TaskGroups[0]
	if name := g.Services[0].Checks[0].Name; name != "inner" {
		t.Fatalf("check name %q, want the inner iterator's value", name)
	}
	checks := g.Scaling.Policy["check"].([]map[string]interface{})
	if len(checks) != 2 {
		t.Fatalf("policy checks %v", checks)
	}
	cpu := checks[0]["cpu"].([]map[string]interface{})[0]
	target := cpu["strategy"].([]map[string]interface{})[0]["target-value"].([]map[string]interface{})[0]["target"]
	if target != int64(70) {
		t.Fatalf("cpu target %v (%T)", target, target)
	}
	if _, ok := checks[1]["mem"]; !ok {
		t.Fatalf("second check %v", checks[1])
	}
}
