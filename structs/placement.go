// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// Affinity prefers (positive Weight) or avoids (negative) nodes that match,
// without excluding any. Weight is -100..100.
type Affinity struct {
	LTarget string
	RTarget string
	Operand string
	Weight  int8
}

// Spread spreads a group's allocations over the values of a node
// attribute, toward the target percentages (evenly when none are given).
// Weight (0..100) sets its pull against the other scoring factors.
type Spread struct {
	Attribute    string
	Weight       int8
	SpreadTarget []*SpreadTarget
}

// SpreadTarget is the share of allocations wanted on one attribute value.
type SpreadTarget struct {
	Value   string
	Percent uint8
}
