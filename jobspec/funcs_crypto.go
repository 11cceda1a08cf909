// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/gocty"
	"golang.org/x/crypto/bcrypt"
)

// This file holds the hash, crypto, encoding, UUID and time functions
// that go-cty's standard library lacks, written from their documented
// behaviour: hashes return lowercase hex of the UTF-8 bytes, UUIDs are
// RFC 4122 strings, timestamp is UTC in RFC 3339.

// stringFunc is a function of one string to one string.
func stringFunc(fn func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			s, err := fn(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(s), nil
		},
	})
}

func hashFunc(h func() hash.Hash) function.Function {
	return stringFunc(func(s string) (string, error) {
		sum := h()
		sum.Write([]byte(s))
		return hex.EncodeToString(sum.Sum(nil)), nil
	})
}

var (
	md5Func    = hashFunc(md5.New)
	sha1Func   = hashFunc(sha1.New)
	sha256Func = hashFunc(sha256.New)
	sha512Func = hashFunc(sha512.New)

	base64EncodeFunc = stringFunc(func(s string) (string, error) {
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	})
	base64DecodeFunc = stringFunc(func(s string) (string, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "", fmt.Errorf("invalid base64: %w", err)
		}
		if !utf8.Valid(b) {
			return "", errors.New("the decoded bytes are not valid UTF-8")
		}
		return string(b), nil
	})
	// urlencode escapes a string for a URL query, spaces as "+".
	urlEncodeFunc = stringFunc(func(s string) (string, error) { return url.QueryEscape(s), nil })
)

// rsaDecryptFunc decrypts base64 PKCS #1 v1.5 ciphertext with a
// PEM-encoded RSA private key (PKCS #1 or PKCS #8).
var rsaDecryptFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "ciphertext", Type: cty.String}, {Name: "privatekey", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		ct, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "invalid base64: %s", err)
		}
		block, _ := pem.Decode([]byte(args[1].AsString()))
		if block == nil {
			return cty.NilVal, function.NewArgErrorf(1, "no PEM block found in the private key")
		}
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			k8, err8 := x509.ParsePKCS8PrivateKey(block.Bytes)
			rk, ok := k8.(*rsa.PrivateKey)
			if err8 != nil || !ok {
				return cty.NilVal, function.NewArgErrorf(1, "not an RSA private key: %s", err)
			}
			key = rk
		}
		// Nomad's rsadecrypt takes PKCS #1 v1.5 ciphertext: job files that
		// use it must keep working.
		//lint:ignore SA1019 compatibility with Nomad's rsadecrypt
		out, err := rsa.DecryptPKCS1v15(nil, key, ct)
		if err != nil {
			return cty.NilVal, fmt.Errorf("decrypt: %w", err)
		}
		if !utf8.Valid(out) {
			return cty.NilVal, errors.New("the decrypted bytes are not valid UTF-8")
		}
		return cty.StringVal(string(out)), nil
	},
})

// uuidV4Func returns a random (version 4) UUID; like timestamp it is a
// new value on every run.
var uuidV4Func = function.New(&function.Spec{
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		var u [16]byte
		if _, err := rand.Read(u[:]); err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(formatUUID(u, 4)), nil
	},
})

// uuidNamespaces are the well-known namespaces uuidv5 accepts by name.
var uuidNamespaces = map[string]string{
	"dns":  "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
	"url":  "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
	"oid":  "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
	"x500": "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
}

// uuidV5Func returns the name-based (SHA-1, version 5) UUID of name in a
// namespace given as "dns", "url", "oid", "x500" or a UUID.
var uuidV5Func = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "namespace", Type: cty.String}, {Name: "name", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		ns := args[0].AsString()
		if known, ok := uuidNamespaces[ns]; ok {
			ns = known
		}
		nsBytes, err := parseUUID(ns)
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "namespace must be dns, url, oid, x500 or a UUID: %s", err)
		}
		h := sha1.New()
		h.Write(nsBytes[:])
		h.Write([]byte(args[1].AsString()))
		var u [16]byte
		copy(u[:], h.Sum(nil))
		return cty.StringVal(formatUUID(u, 5)), nil
	},
})

// formatUUID sets the version and RFC 4122 variant bits of u and formats
// it as 8-4-4-4-12 hex.
func formatUUID(u [16]byte, version byte) string {
	u[6] = u[6]&0x0f | version<<4
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("%q is not a UUID", s)
	}
	b, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	if err != nil {
		return u, fmt.Errorf("%q is not a UUID", s)
	}
	copy(u[:], b)
	return u, nil
}

// timestampFunc returns the current time in UTC, RFC 3339.
var timestampFunc = function.New(&function.Spec{
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		return cty.StringVal(time.Now().UTC().Format(time.RFC3339)), nil
	},
})

// maxBcryptCost bounds bcrypt's cost. Each step doubles the work: cost 31,
// which bcrypt itself accepts, takes days, and a job file is parsed by the
// CLI and may be parsed by servers and fuzzers. 14 takes about a second.
const maxBcryptCost = 14

// bcryptFunc is Nomad's bcrypt(string, cost): a bcrypt hash in Modular
// Crypt Format ("$2a$10$..."), with a random salt, so each call differs.
// The cost is optional and defaults to 10, as Nomad documents.
var bcryptFunc = function.New(&function.Spec{
	Params:   []function.Parameter{{Name: "str", Type: cty.String}},
	VarParam: &function.Parameter{Name: "cost", Type: cty.Number},
	Type:     function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		cost := bcrypt.DefaultCost
		switch len(args) {
		case 1:
		case 2:
			if err := gocty.FromCtyValue(args[1], &cost); err != nil || cost < bcrypt.MinCost || cost > maxBcryptCost {
				return cty.NilVal, function.NewArgErrorf(1, "cost must be a whole number from %d to %d", bcrypt.MinCost, maxBcryptCost)
			}
		default:
			return cty.NilVal, errors.New("bcrypt takes a string and an optional cost")
		}
		h, err := bcrypt.GenerateFromPassword([]byte(args[0].AsString()), cost)
		if err != nil {
			return cty.NilVal, fmt.Errorf("bcrypt: %w", err)
		}
		return cty.StringVal(string(h)), nil
	},
})
