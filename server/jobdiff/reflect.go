// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobdiff

// The field-by-field comparison. It walks the job model by reflection so a
// field added to structs later shows up in plans without anyone touching
// this file. How each kind of field becomes a diff follows Nomad:
//
//   - primitives (strings, numbers, bools, durations in nanoseconds) and
//     pointers to them are FieldDiffs named after the field;
//   - nested blocks (structs, pointers to structs) are ObjectDiffs named
//     after the field;
//   - lists of blocks are ObjectDiffs named after the singular of the field
//     ("Constraints" -> "Constraint"), matched by Name or Label when every
//     element has a distinct one, otherwise as sets;
//   - lists of primitives are one ObjectDiff whose fields, all named after
//     the list, are its elements compared as a set;
//   - string maps are fields named "Meta[key]";
//   - free-form values (a task's Config) are one ObjectDiff whose fields are
//     the flattened keys ("args[0]", "port_map[db]").

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// structValue returns the struct p points to, or the invalid Value (absent)
// when p is nil.
func structValue[T any](p *T) reflect.Value {
	if p == nil {
		return reflect.Value{}
	}
	return reflect.ValueOf(p).Elem()
}

// diffStruct compares two values of one struct type; either may be the
// invalid Value (absent). Fields named in skip are left out.
func diffStruct(o, n reflect.Value, skip map[string]bool, contextual bool) ([]*FieldDiff, []*ObjectDiff) {
	var t reflect.Type
	switch {
	case o.IsValid():
		t = o.Type()
	case n.IsValid():
		t = n.Type()
	default:
		return nil, nil
	}
	var fs []*FieldDiff
	var objs []*ObjectDiff
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() || skip[sf.Name] {
			continue
		}
		f, ob := diffValue(sf.Name, sf.Type, fieldOf(o, i), fieldOf(n, i), contextual)
		fs = append(fs, f...)
		objs = append(objs, ob...)
	}
	sortDiffs(fs, objs)
	return fs, objs
}

func fieldOf(v reflect.Value, i int) reflect.Value {
	if !v.IsValid() {
		return v
	}
	return v.Field(i)
}

// deref follows pointers and interfaces; nil becomes absent.
func deref(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func isPrimitive(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// isBlock reports whether t is a struct with exported fields to walk.
func isBlock(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() {
			return true
		}
	}
	return false
}

// diffValue compares one field of type t.
func diffValue(name string, t reflect.Type, o, n reflect.Value, contextual bool) ([]*FieldDiff, []*ObjectDiff) {
	et := derefType(t)
	o, n = deref(o), deref(n)
	switch {
	case isPrimitive(et):
		return fieldList(fieldDiff(name, primitive(o), primitive(n), contextual)), nil
	case isBlock(et):
		return nil, objectList(objectDiff(name, o, n, contextual))
	case et.Kind() == reflect.Slice && et.Elem().Kind() == reflect.Uint8:
		return fieldList(fieldDiff(name, bytesOf(o), bytesOf(n), contextual)), nil
	case et.Kind() == reflect.Slice && isPrimitive(derefType(et.Elem())):
		return nil, objectList(primitiveSetDiff(name, o, n, contextual))
	case et.Kind() == reflect.Slice && isBlock(derefType(et.Elem())):
		return nil, blockListDiff(singular(name), o, n, contextual)
	case et.Kind() == reflect.Map && et.Key().Kind() == reflect.String && isPrimitive(derefType(et.Elem())):
		return stringMapDiff(name, o, n, contextual), nil
	case et.Kind() == reflect.Map && et.Key().Kind() == reflect.String && isBlock(derefType(et.Elem())):
		return nil, blockMapDiff(singular(name), o, n, contextual)
	default:
		return nil, objectList(flatDiff(name, o, n, contextual))
	}
}

func fieldList(f *FieldDiff) []*FieldDiff {
	if f == nil {
		return nil
	}
	return []*FieldDiff{f}
}

func objectList(o *ObjectDiff) []*ObjectDiff {
	if o == nil {
		return nil
	}
	return []*ObjectDiff{o}
}

// primitive renders a primitive as Nomad's flattened form does: durations
// and other integers in decimal, bools as true/false; absent is "".
func primitive(v reflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

func bytesOf(v reflect.Value) string {
	if !v.IsValid() || v.Len() == 0 {
		return ""
	}
	return string(v.Bytes())
}

// fieldDiff compares two rendered values: "" on one side means the value is
// absent there. Unchanged fields are returned only when contextual.
func fieldDiff(name, old, new string, contextual bool) *FieldDiff {
	d := &FieldDiff{Name: name, Old: old, New: new}
	switch {
	case old == new:
		if !contextual {
			return nil
		}
		d.Type = TypeNone
	case old == "":
		d.Type = TypeAdded
	case new == "":
		d.Type = TypeDeleted
	default:
		d.Type = TypeEdited
	}
	return d
}

// objectType decides an object's type from its sides and children.
func objectType(oAbsent, nAbsent bool, fs []*FieldDiff, objs []*ObjectDiff) string {
	switch {
	case oAbsent:
		return TypeAdded
	case nAbsent:
		return TypeDeleted
	case anyChange(fs, objs):
		return TypeEdited
	}
	return TypeNone
}

// finish sets d's type and drops it when it is unchanged and not wanted.
func finish(d *ObjectDiff, oAbsent, nAbsent, contextual bool) *ObjectDiff {
	if oAbsent && nAbsent {
		return nil
	}
	d.Type = objectType(oAbsent, nAbsent, d.Fields, d.Objects)
	if d.Type == TypeNone && !contextual {
		return nil
	}
	return d
}

// objectDiff compares two nested blocks of one type.
func objectDiff(name string, o, n reflect.Value, contextual bool) *ObjectDiff {
	if !o.IsValid() && !n.IsValid() {
		return nil
	}
	d := &ObjectDiff{Name: name}
	d.Fields, d.Objects = diffStruct(o, n, nil, contextual)
	return finish(d, !o.IsValid(), !n.IsValid(), contextual)
}

// elements returns the present elements of a list.
func elements(v reflect.Value) []reflect.Value {
	if !v.IsValid() {
		return nil
	}
	out := make([]reflect.Value, 0, v.Len())
	for i := 0; i < v.Len(); i++ {
		if e := deref(v.Index(i)); e.IsValid() {
			out = append(out, e)
		}
	}
	return out
}

// primitiveSetDiff compares two lists of primitives as sets.
func primitiveSetDiff(name string, o, n reflect.Value, contextual bool) *ObjectDiff {
	oldSet, newSet := map[string]bool{}, map[string]bool{}
	for _, e := range elements(o) {
		oldSet[primitive(e)] = true
	}
	for _, e := range elements(n) {
		newSet[primitive(e)] = true
	}
	keys := unionKeys(oldSet, newSet)
	d := &ObjectDiff{Name: name}
	for _, k := range keys {
		var old, new string
		if oldSet[k] {
			old = k
		}
		if newSet[k] {
			new = k
		}
		if old == "" && new == "" {
			continue // an empty string element: nothing to show
		}
		if f := fieldDiff(name, old, new, contextual); f != nil {
			d.Fields = append(d.Fields, f)
		}
	}
	return finish(d, len(oldSet) == 0, len(newSet) == 0, contextual)
}

// blockListDiff compares two lists of blocks: by key when every element
// has a distinct Name (or Label), otherwise as sets of equal values.
func blockListDiff(name string, o, n reflect.Value, contextual bool) []*ObjectDiff {
	olds, news := elements(o), elements(n)
	oldKeys, okOld := keysOf(olds)
	newKeys, okNew := keysOf(news)
	var out []*ObjectDiff
	if okOld && okNew {
		oldByKey := make(map[string]reflect.Value, len(olds))
		for i, e := range olds {
			oldByKey[oldKeys[i]] = e
		}
		seen := map[string]bool{}
		for i, e := range news {
			seen[newKeys[i]] = true
			if d := objectDiff(name, oldByKey[newKeys[i]], e, contextual); d != nil {
				out = append(out, d)
			}
		}
		for i, e := range olds {
			if !seen[oldKeys[i]] {
				out = append(out, objectDiff(name, e, reflect.Value{}, contextual))
			}
		}
		return out
	}
	// Sets: an element equal to one on the other side is unchanged.
	usedNew := make([]bool, len(news))
	var deleted []reflect.Value
	for _, oe := range olds {
		match := -1
		for j, ne := range news {
			if !usedNew[j] && reflect.DeepEqual(oe.Interface(), ne.Interface()) {
				match = j
				break
			}
		}
		if match < 0 {
			deleted = append(deleted, oe)
			continue
		}
		usedNew[match] = true
		if d := objectDiff(name, oe, news[match], contextual); d != nil {
			out = append(out, d)
		}
	}
	for _, oe := range deleted {
		out = append(out, objectDiff(name, oe, reflect.Value{}, contextual))
	}
	for j, ne := range news {
		if !usedNew[j] {
			out = append(out, objectDiff(name, reflect.Value{}, ne, contextual))
		}
	}
	return out
}

// keysOf returns each block's Name or Label, and whether they are all
// present and distinct.
func keysOf(vs []reflect.Value) ([]string, bool) {
	keys := make([]string, len(vs))
	seen := map[string]bool{}
	for i, v := range vs {
		var k string
		for _, f := range []string{"Name", "Label"} {
			if fv := v.FieldByName(f); fv.IsValid() && fv.Kind() == reflect.String && fv.String() != "" {
				k = fv.String()
				break
			}
		}
		if k == "" || seen[k] {
			return nil, false
		}
		seen[k] = true
		keys[i] = k
	}
	return keys, true
}

// stringMapDiff compares maps of primitives as fields "Name[key]".
func stringMapDiff(name string, o, n reflect.Value, contextual bool) []*FieldDiff {
	oldM, newM := primitiveMap(o), primitiveMap(n)
	var out []*FieldDiff
	for _, k := range unionKeys(oldM, newM) {
		if f := fieldDiff(name+"["+k+"]", oldM[k], newM[k], contextual); f != nil {
			out = append(out, f)
		}
	}
	return out
}

func primitiveMap(v reflect.Value) map[string]string {
	out := map[string]string{}
	if !v.IsValid() {
		return out
	}
	iter := v.MapRange()
	for iter.Next() {
		out[iter.Key().String()] = primitive(deref(iter.Value()))
	}
	return out
}

// blockMapDiff compares maps of blocks key by key.
func blockMapDiff(name string, o, n reflect.Value, contextual bool) []*ObjectDiff {
	get := func(m reflect.Value, k string) reflect.Value {
		if !m.IsValid() {
			return reflect.Value{}
		}
		return deref(m.MapIndex(reflect.ValueOf(k).Convert(m.Type().Key())))
	}
	keys := map[string]bool{}
	for _, m := range []reflect.Value{o, n} {
		if m.IsValid() {
			for _, k := range m.MapKeys() {
				keys[k.String()] = true
			}
		}
	}
	var out []*ObjectDiff
	for _, k := range unionKeys(keys, nil) {
		if d := objectDiff(name, get(o, k), get(n, k), contextual); d != nil {
			out = append(out, d)
		}
	}
	return out
}

// flatDiff compares free-form values by their flattened keys.
func flatDiff(name string, o, n reflect.Value, contextual bool) *ObjectDiff {
	oldM, newM := map[string]string{}, map[string]string{}
	flatten("", o, oldM)
	flatten("", n, newM)
	d := &ObjectDiff{Name: name}
	for _, k := range unionKeys(oldM, newM) {
		if f := fieldDiff(k, oldM[k], newM[k], contextual); f != nil {
			d.Fields = append(d.Fields, f)
		}
	}
	return finish(d, len(oldM) == 0, len(newM) == 0, contextual)
}

// flatten writes v's leaves into out under keys like "a[0][b]".
func flatten(prefix string, v reflect.Value, out map[string]string) {
	v = deref(v)
	if !v.IsValid() {
		return
	}
	key := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "[" + k + "]"
	}
	switch v.Kind() {
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			flatten(key(fmt.Sprint(iter.Key().Interface())), iter.Value(), out)
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			out[prefix] = string(v.Bytes())
			return
		}
		for i := 0; i < v.Len(); i++ {
			flatten(key(strconv.Itoa(i)), v.Index(i), out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				flatten(key(t.Field(i).Name), v.Field(i), out)
			}
		}
	default:
		if prefix == "" {
			prefix = "value"
		}
		out[prefix] = primitive(v)
	}
}

// unionKeys returns the keys of both maps, sorted.
func unionKeys[V any](a, b map[string]V) []string {
	seen := make(map[string]bool, len(a)+len(b))
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// singular names one element of a list field: "Constraints" ->
// "Constraint", "Affinities" -> "Affinity".
func singular(name string) string {
	switch {
	case strings.HasSuffix(name, "ies"):
		return strings.TrimSuffix(name, "ies") + "y"
	case strings.HasSuffix(name, "s") && !strings.HasSuffix(name, "ss"):
		return strings.TrimSuffix(name, "s")
	}
	return name
}

// sortDiffs orders fields and objects by name, as Nomad prints them; equal
// names keep their order.
func sortDiffs(fs []*FieldDiff, objs []*ObjectDiff) {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].Name < objs[j].Name })
}
