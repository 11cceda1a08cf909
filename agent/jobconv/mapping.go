// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobconv

import (
	"fmt"
	"reflect"

	"github.com/droverhq/drover/structs"
)

// convert sets dst to src, matching struct fields by name, in either
// direction between the wire types and structs:
//   - a pointer on one side and a value on the other is dereferenced or
//     allocated (a nil wire pointer leaves the zero value);
//   - slices, maps and nested structs are converted element by element, so
//     the result shares nothing with src;
//   - free-form values (interfaces such as a task's Config) are deep-copied;
//   - named scalar types convert to their base kind (api.CSIPluginType to
//     string).
//
// A dst field with no src counterpart keeps its zero value; src fields with
// none are the refused and folded fields of unsupported.go.
func convert(dst, src reflect.Value, path string) error {
	if src.Kind() == reflect.Pointer {
		if src.IsNil() {
			return nil
		}
		src = src.Elem()
	}
	if dst.Kind() == reflect.Pointer && src.Kind() != reflect.Pointer {
		p := reflect.New(dst.Type().Elem())
		if err := convert(p.Elem(), src, path); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	}
	switch {
	case src.Kind() == reflect.Interface || dst.Kind() == reflect.Interface:
		if src.Type() != dst.Type() {
			return fmt.Errorf("%s: cannot convert %s to %s", path, src.Type(), dst.Type())
		}
		structs.CopyValue(dst, src)
	case src.Kind() != dst.Kind():
		return fmt.Errorf("%s: cannot convert %s to %s", path, src.Type(), dst.Type())
	case src.Kind() == reflect.Struct:
		t := dst.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			sf := src.FieldByName(f.Name)
			if !sf.IsValid() {
				continue
			}
			if err := convert(dst.Field(i), sf, joinPath(path, f.Name)); err != nil {
				return err
			}
		}
	case src.Kind() == reflect.Slice:
		if src.IsNil() {
			return nil
		}
		s := reflect.MakeSlice(dst.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			if err := convert(s.Index(i), src.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(s)
	case src.Kind() == reflect.Map:
		if src.IsNil() {
			return nil
		}
		m := reflect.MakeMapWithSize(dst.Type(), src.Len())
		iter := src.MapRange()
		for iter.Next() {
			k := reflect.New(dst.Type().Key()).Elem()
			if err := convert(k, iter.Key(), path); err != nil {
				return err
			}
			v := reflect.New(dst.Type().Elem()).Elem()
			if err := convert(v, iter.Value(), fmt.Sprintf("%s[%q]", path, iter.Key())); err != nil {
				return err
			}
			m.SetMapIndex(k, v)
		}
		dst.Set(m)
	default:
		dst.Set(src.Convert(dst.Type()))
	}
	return nil
}
