// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskenv

import (
	"maps"
	"strings"

	"github.com/droverhq/drover/structs"
)

// Env is a built task environment, able to interpolate ${...} references.
type Env struct {
	vars   map[string]string
	node   *structs.Node
	region string
}

// Map returns a copy of the environment variables.
func (e *Env) Map() map[string]string { return maps.Clone(e.vars) }

// Get returns one variable.
func (e *Env) Get(name string) (string, bool) {
	v, ok := e.vars[name]
	return v, ok
}

// ReplaceEnv substitutes every ${...} reference in s that resolves:
// ${NOMAD_ALLOC_ID} (any variable), ${env["X"]}, ${attr.<name>},
// ${meta.<key>} (node meta) and ${node.unique.id}, ${node.unique.name},
// ${node.datacenter}, ${node.class}, ${node.pool}, ${node.region}.
// References that do not resolve are left as written, as Nomad does, so a
// typo shows up in the task's output rather than as an empty string.
func (e *Env) ReplaceEnv(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		start := strings.Index(s, "${")
		if start < 0 {
			break
		}
		end := strings.IndexByte(s[start:], '}')
		if end < 0 {
			break
		}
		end += start
		b.WriteString(s[:start])
		if v, ok := e.lookup(strings.TrimSpace(s[start+2 : end])); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[start : end+1])
		}
		s = s[end+1:]
	}
	b.WriteString(s)
	return b.String()
}

// ReplaceAll walks a decoded driver config (maps, slices, strings) and
// returns a copy with every string interpolated, map keys included.
func (e *Env) ReplaceAll(v any) any {
	switch t := v.(type) {
	case string:
		return e.ReplaceEnv(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[e.ReplaceEnv(k)] = e.ReplaceAll(val)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = e.ReplaceAll(val)
		}
		return out
	case []string:
		out := make([]string, len(t))
		for i, val := range t {
			out[i] = e.ReplaceEnv(val)
		}
		return out
	case []map[string]any:
		out := make([]map[string]any, len(t))
		for i, val := range t {
			out[i], _ = e.ReplaceAll(val).(map[string]any)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(t))
		for k, val := range t {
			out[e.ReplaceEnv(k)] = e.ReplaceEnv(val)
		}
		return out
	default:
		return v
	}
}

// ReplaceConfig interpolates a task's driver config.
func (e *Env) ReplaceConfig(cfg map[string]any) map[string]any {
	if cfg == nil {
		return nil
	}
	out, _ := e.ReplaceAll(cfg).(map[string]any)
	return out
}

func (e *Env) lookup(ref string) (string, bool) {
	if key, ok := envIndex(ref); ok {
		v, found := e.vars[key]
		return v, found
	}
	if name, ok := strings.CutPrefix(ref, nodeAttrPrefix); ok {
		if e.node == nil {
			return "", false
		}
		v, found := e.node.Attributes[name]
		return v, found
	}
	if key, ok := strings.CutPrefix(ref, nodeMetaPrefix); ok {
		if e.node == nil {
			return "", false
		}
		v, found := e.node.Meta[key]
		return v, found
	}
	if strings.HasPrefix(ref, "node.") {
		return e.nodeValue(ref)
	}
	v, ok := e.vars[ref]
	return v, ok
}

func (e *Env) nodeValue(ref string) (string, bool) {
	if ref == "node.region" {
		return e.region, e.region != ""
	}
	if e.node == nil {
		return "", false
	}
	switch ref {
	case "node.unique.id":
		return e.node.ID, true
	case "node.unique.name":
		return e.node.Name, true
	case "node.datacenter":
		return e.node.Datacenter, true
	case "node.class":
		return e.node.NodeClass, true
	case "node.pool":
		return e.node.NodePool, true
	}
	return "", false
}

// envIndex parses env["X"] (or env['X']) and returns X.
func envIndex(ref string) (string, bool) {
	rest, ok := strings.CutPrefix(ref, "env[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return "", false
	}
	rest = strings.TrimSpace(strings.TrimSuffix(rest, "]"))
	if len(rest) >= 2 && (rest[0] == '"' || rest[0] == '\'') && rest[len(rest)-1] == rest[0] {
		return rest[1 : len(rest)-1], true
	}
	return "", false
}
