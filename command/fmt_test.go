// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	messy := filepath.Join(dir, "messy.nomad.hcl")
	tidy := filepath.Join(dir, "tidy.nomad.hcl")
	src := "job \"x\" {\ndatacenters=[\"dc1\"]\n    type = \"batch\"\n}\n"
	if err := os.WriteFile(messy, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tidy, []byte("job \"y\" {\n  type = \"batch\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, newFakeAgent(t), "", "fmt", "-check", dir)
	r.check(t, ExitError, messy+"\n", "")
	if got, _ := os.ReadFile(messy); string(got) != src {
		t.Fatal("-check changed the file")
	}

	r = runCLI(t, newFakeAgent(t), "", "fmt", dir)
	r.check(t, ExitOK, messy+"\n", "")
	got, _ := os.ReadFile(messy)
	if !strings.Contains(string(got), "  datacenters = [\"dc1\"]\n  type        = \"batch\"") {
		t.Fatalf("not formatted:\n%s", got)
	}
	runCLI(t, newFakeAgent(t), "", "fmt", "-check", dir).check(t, ExitOK, "", "")

	r = runCLI(t, newFakeAgent(t), "job \"z\" {\ntype=\"batch\"\n}\n", "fmt", "-")
	r.check(t, ExitOK, "job \"z\" {\n  type = \"batch\"\n}\n", "")

	bad := filepath.Join(dir, "bad.hcl")
	os.WriteFile(bad, []byte("job \"x\" {\n"), 0o644)
	r = runCLI(t, newFakeAgent(t), "", "fmt", bad)
	if r.code != ExitError || !strings.Contains(r.stderr, "bad.hcl:") {
		t.Fatalf("syntax error: exit %d, %q", r.code, r.stderr)
	}
}
