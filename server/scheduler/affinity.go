// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file compiles a group's spread and affinity blocks and scores nodes
// against the affinities. Affinities are soft: they never filter a node,
// they only move its score. A node's affinity score depends on the node
// alone, so it is computed when the node enters the ranking and again only
// when a placement lands on it.

import (
	"fmt"

	"github.com/droverhq/drover/structs"
)

// defaultPreferenceWeight is the weight of a spread or affinity that does
// not give one. Nomad's API fills in 50 and rejects 0, so a 0 reaching the
// scheduler can only be a hand-built job that meant the default.
const defaultPreferenceWeight = 50

// compiledAffinity is one affinity: a constraint that, when it holds on a
// node, adds weight (negative: subtracts) to the node's affinity score.
type compiledAffinity struct {
	c      *constraint
	weight float64
}

// compilePreferences compiles the spreads of job and tg and the
// affinities of job, tg and tg's tasks into cg. Job-level blocks apply to
// every group, as in Nomad.
func (cg *compiledGroup) compilePreferences(job *structs.Job, tg *structs.TaskGroup) error {
	for _, s := range append(append([]*structs.Spread(nil), job.Spreads...), tg.Spreads...) {
		if s == nil {
			continue
		}
		cs, err := compileSpread(s)
		if err != nil {
			return err
		}
		cg.spreads = append(cg.spreads, cs)
	}
	add := func(as []*structs.Affinity) error {
		for _, a := range as {
			if a == nil {
				continue
			}
			ca, err := compileAffinity(a)
			if err != nil {
				return err
			}
			cg.affinities = append(cg.affinities, ca)
			cg.affTotal += max(ca.weight, -ca.weight)
		}
		return nil
	}
	if err := add(job.Affinities); err != nil {
		return err
	}
	if err := add(tg.Affinities); err != nil {
		return err
	}
	for _, t := range tg.Tasks {
		if err := add(t.Affinities); err != nil {
			return fmt.Errorf("task %q: %w", t.Name, err)
		}
	}
	return nil
}

// compileAffinity checks the operator and weight of a.
func compileAffinity(a *structs.Affinity) (compiledAffinity, error) {
	c := &structs.Constraint{LTarget: a.LTarget, RTarget: a.RTarget, Operand: a.Operand}
	if c.Operand == "" {
		c.Operand = opEqual
	}
	cc, err := compileConstraint(c)
	if err != nil {
		return compiledAffinity{}, fmt.Errorf("affinity: %w", err)
	}
	if cc.distinct() {
		return compiledAffinity{}, fmt.Errorf("affinity %q: operator %q is only valid in a constraint", cc.key, c.Operand)
	}
	w := float64(a.Weight)
	if w == 0 {
		w = defaultPreferenceWeight
	}
	if w < -100 || w > 100 {
		return compiledAffinity{}, fmt.Errorf("affinity %q: weight %d is outside -100..100", cc.key, a.Weight)
	}
	return compiledAffinity{c: cc, weight: w}, nil
}

// affinityScore is Nomad's node affinity score: the sum of the weights of
// the affinities that hold on n over the sum of all |weights|, so -1..1.
func (cg *compiledGroup) affinityScore(n *structs.Node) float64 {
	if cg.affTotal == 0 {
		return 0
	}
	var s float64
	for _, a := range cg.affinities {
		if a.c.check(n) {
			s += a.weight
		}
	}
	return s / cg.affTotal
}
