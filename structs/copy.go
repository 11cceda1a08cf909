// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "reflect"

// deepCopy returns a copy of *v that shares no pointer, slice or map with
// it, including inside free-form values such as a task's Config.
//
// The job specification has some sixty nested block types; a reflective
// copy cannot forget a field added later, which a hand-written one can, and
// a forgotten field is a shared mutable object in the state store. Jobs are
// copied on writes (register, update, status), never per placement
// (allocations share their Job), so the cost is not on a hot path.
func deepCopy[T any](v *T) *T {
	if v == nil {
		return nil
	}
	out := new(T)
	CopyValue(reflect.ValueOf(out).Elem(), reflect.ValueOf(v).Elem())
	return out
}

// CopyValue sets dst, a settable value of src's type, to a deep copy of
// src: pointers, slices, maps and interfaces are copied, not shared. It is
// exported for the API conversion, which copies wire types the same way. Unexported fields are not copied; the model has none.
func CopyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		CopyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := reflect.New(src.Elem().Type()).Elem()
		CopyValue(e, src.Elem())
		dst.Set(e)
	case reflect.Struct:
		t := src.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				CopyValue(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			CopyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Array:
		for i := range src.Len() {
			CopyValue(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		iter := src.MapRange()
		for iter.Next() {
			e := reflect.New(src.Type().Elem()).Elem()
			CopyValue(e, iter.Value())
			m.SetMapIndex(iter.Key(), e)
		}
		dst.Set(m)
	default:
		dst.Set(src)
	}
}
