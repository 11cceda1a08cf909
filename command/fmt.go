// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/droverhq/drover/jobspec"
)

func init() {
	Register("fmt", func(ui *UI) Command { return &FmtCommand{UI: ui} })
}

// FmtCommand implements "drover fmt": rewrite HCL job files in the
// canonical layout, or check that they already are.
type FmtCommand struct {
	UI *UI
}

// Synopsis implements Command.
func (c *FmtCommand) Synopsis() string { return "Rewrites job files to the canonical format" }

// Help implements Command.
func (c *FmtCommand) Help() string {
	return strings.TrimSpace(`
Usage: drover fmt [options] [path ...]

  Rewrites HCL files (*.hcl, *.nomad) in the canonical layout: indentation,
  alignment of "=" in runs of arguments, spacing. A directory is searched
  for such files (not recursively unless -recursive). With no path, the
  current directory. "-" reads stdin and writes stdout.

Options:

  -check      Change nothing; exit 1 and list the files that are not
              formatted.
  -list=false Do not print the names of the files that were changed.
  -recursive  Also format files in subdirectories.
`)
}

// Run implements Command.
func (c *FmtCommand) Run(ctx context.Context, args []string) int {
	m := &Meta{UI: c.UI}
	fs := m.FlagSet("fmt")
	check := fs.Bool("check", false, "")
	list := fs.Bool("list", true, "")
	recursive := fs.Bool("recursive", false, "")
	if !m.parseFlags(fs, args) {
		return ExitError
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	if len(paths) == 1 && paths[0] == "-" {
		src, err := io.ReadAll(c.UI.In)
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error reading stdin: %v", err))
			return ExitError
		}
		out, err := jobspec.FormatFile("<stdin>", src)
		if err != nil {
			c.UI.Error(err.Error())
			return ExitError
		}
		if *check {
			if !bytes.Equal(src, out) {
				return ExitError
			}
			return ExitOK
		}
		fmt.Fprint(c.UI.Out, string(out))
		return ExitOK
	}
	files, err := hclFiles(paths, *recursive)
	if err != nil {
		c.UI.Error(err.Error())
		return ExitError
	}
	code := ExitOK
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error reading %s: %v", path, err))
			code = ExitError
			continue
		}
		out, err := jobspec.FormatFile(path, src)
		if err != nil {
			c.UI.Error(err.Error())
			code = ExitError
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		if *check {
			c.UI.Output(path)
			code = ExitError
			continue
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			c.UI.Error(fmt.Sprintf("Error writing %s: %v", path, err))
			code = ExitError
			continue
		}
		if *list {
			c.UI.Output(path)
		}
	}
	return code
}

// hclFiles expands paths into the job files to format.
func hclFiles(paths []string, recursive bool) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("Error reading %s: %v", p, err)
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && !recursive {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".hcl") || strings.HasSuffix(path, ".nomad") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("Error reading %s: %v", p, err)
		}
	}
	sort.Strings(out)
	return out, nil
}
