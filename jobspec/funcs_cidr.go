// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"math/big"
	"net/netip"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/gocty"
)

// This file holds the IP network functions: cidrhost, cidrnetmask,
// cidrsubnet and cidrsubnets, for IPv4 and IPv6 prefixes in CIDR
// notation. Host and network numbers may be negative to count from the
// end of the range, as Nomad documents.

func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR prefix %q: %w", s, err)
	}
	return p.Masked(), nil
}

// addrToInt and intToAddr convert between an address and its number.
func addrToInt(a netip.Addr) *big.Int {
	b := a.AsSlice()
	return new(big.Int).SetBytes(b)
}

func intToAddr(n *big.Int, is4 bool) netip.Addr {
	size := 16
	if is4 {
		size = 4
	}
	buf := make([]byte, size)
	n.FillBytes(buf)
	a, _ := netip.AddrFromSlice(buf)
	return a
}

// nth returns the n-th block of 2^bits addresses after base, or counting
// from the end when n is negative, within a range of 2^total blocks.
func nth(base *big.Int, n int64, bits, total int) (*big.Int, error) {
	count := new(big.Int).Lsh(big.NewInt(1), uint(total))
	num := big.NewInt(n)
	if n < 0 {
		num.Add(count, num)
	}
	if num.Sign() < 0 || num.Cmp(count) >= 0 {
		return nil, fmt.Errorf("number %d does not fit in %d bits", n, total)
	}
	return new(big.Int).Add(base, new(big.Int).Lsh(num, uint(bits))), nil
}

var cidrHostFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "prefix", Type: cty.String}, {Name: "hostnum", Type: cty.Number}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		p, err := parsePrefix(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		var host int64
		if err := gocty.FromCtyValue(args[1], &host); err != nil {
			return cty.NilVal, function.NewArgError(1, err)
		}
		hostBits := p.Addr().BitLen() - p.Bits()
		n, err := nth(addrToInt(p.Addr()), host, 0, hostBits)
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(1, "prefix %s has no host %d: %s", p, host, err)
		}
		return cty.StringVal(intToAddr(n, p.Addr().Is4()).String()), nil
	},
})

var cidrNetmaskFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "prefix", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		p, err := parsePrefix(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		if !p.Addr().Is4() {
			return cty.NilVal, function.NewArgErrorf(0, "netmasks exist only for IPv4 prefixes")
		}
		mask := new(big.Int).Lsh(big.NewInt(1), 32)
		mask.Sub(mask, new(big.Int).Lsh(big.NewInt(1), uint(32-p.Bits())))
		return cty.StringVal(intToAddr(mask, true).String()), nil
	},
})

// subnet returns the netnum-th subnet of p with newbits more prefix bits.
func subnet(p netip.Prefix, newbits int, netnum int64) (netip.Prefix, error) {
	bits := p.Bits() + newbits
	if newbits < 0 || bits > p.Addr().BitLen() {
		return netip.Prefix{}, fmt.Errorf("cannot extend prefix %s by %d bits", p, newbits)
	}
	n, err := nth(addrToInt(p.Addr()), netnum, p.Addr().BitLen()-bits, newbits)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(intToAddr(n, p.Addr().Is4()), bits), nil
}

var cidrSubnetFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "prefix", Type: cty.String}, {Name: "newbits", Type: cty.Number}, {Name: "netnum", Type: cty.Number}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		p, err := parsePrefix(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		var newbits int
		var netnum int64
		if err := gocty.FromCtyValue(args[1], &newbits); err != nil {
			return cty.NilVal, function.NewArgError(1, err)
		}
		if err := gocty.FromCtyValue(args[2], &netnum); err != nil {
			return cty.NilVal, function.NewArgError(2, err)
		}
		s, err := subnet(p, newbits, netnum)
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(s.String()), nil
	},
})

// cidrSubnetsFunc allocates consecutive subnets of the given sizes, each
// aligned to its own size, as Nomad's cidrsubnets does.
var cidrSubnetsFunc = function.New(&function.Spec{
	Params:   []function.Parameter{{Name: "prefix", Type: cty.String}},
	VarParam: &function.Parameter{Name: "newbits", Type: cty.Number},
	Type:     function.StaticReturnType(cty.List(cty.String)),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		p, err := parsePrefix(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		if len(args) == 1 {
			return cty.ListValEmpty(cty.String), nil
		}
		width := p.Addr().BitLen()
		end := new(big.Int).Add(addrToInt(p.Addr()), new(big.Int).Lsh(big.NewInt(1), uint(width-p.Bits())))
		next := addrToInt(p.Addr())
		out := make([]cty.Value, 0, len(args)-1)
		for i, a := range args[1:] {
			var newbits int
			if err := gocty.FromCtyValue(a, &newbits); err != nil {
				return cty.NilVal, function.NewArgError(i+1, err)
			}
			bits := p.Bits() + newbits
			if newbits < 1 || bits > width {
				return cty.NilVal, function.NewArgErrorf(i+1, "cannot extend prefix %s by %d bits", p, newbits)
			}
			size := new(big.Int).Lsh(big.NewInt(1), uint(width-bits))
			// Round up to a multiple of the subnet's size.
			rem := new(big.Int).Mod(next, size)
			if rem.Sign() != 0 {
				next.Add(next, new(big.Int).Sub(size, rem))
			}
			if new(big.Int).Add(next, size).Cmp(end) > 0 {
				return cty.NilVal, function.NewArgErrorf(i+1, "not enough room left in %s for a /%d subnet", p, bits)
			}
			out = append(out, cty.StringVal(netip.PrefixFrom(intToAddr(next, p.Addr().Is4()), bits).String()))
			next = new(big.Int).Add(next, size)
		}
		return cty.ListVal(out), nil
	},
})
