// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"encoding/json"
	"fmt"
	"strings"
)

// PlacementScores are the scores of the node an allocation was placed on.
// The API shows them as Nomad's AllocationMetric.Scores map, keyed
// "<node ID>.<scorer>"; kept as fields they cost 80 bytes an allocation,
// where that map (two entries, two 45-byte keys) cost about 400, a fifth
// of the servers' memory per allocation at a million allocations.
type PlacementScores struct {
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	NodeID            string
	Binpack           float64
	JobAntiAffinity   float64
	ReschedulePenalty float64
	// Normalized is the final score the node was chosen by.
	Normalized float64
	// Affinity and Spread are set when the group has affinities or
	// spreads (HasAffinity, HasSpread): a zero score is still a score.
	Affinity    float64
	Spread      float64
	HasAffinity bool
	HasSpread   bool
}

// Scorer names, as Nomad's map keys end.
const (
	scoreBinpack       = "binpack"
	scoreAntiAffinity  = "job-anti-affinity"
	scoreReschedule    = "node-reschedule-penalty"
	scoreNormalized    = "normalized-score"
	scoreAffinity      = "node-affinity"
	scoreSpread        = "allocation-spread"
	scoreNodeSeparator = "."
)

// scorers returns each scorer's name and score, the final score left out.
func (s *PlacementScores) scorers() map[string]float64 {
	m := map[string]float64{
		scoreBinpack:      s.Binpack,
		scoreAntiAffinity: s.JobAntiAffinity,
		scoreReschedule:   s.ReschedulePenalty,
	}
	if s.HasAffinity {
		m[scoreAffinity] = s.Affinity
	}
	if s.HasSpread {
		m[scoreSpread] = s.Spread
	}
	return m
}

// Map is the scores as Nomad's Scores map: "<node ID>.<scorer>".
func (s *PlacementScores) Map() map[string]float64 {
	if s == nil {
		return nil
	}
	m := map[string]float64{s.NodeID + scoreNodeSeparator + scoreNormalized: s.Normalized}
	for name, v := range s.scorers() {
		m[s.NodeID+scoreNodeSeparator+name] = v
	}
	return m
}

// NodeScoreMeta is one node's scores as Nomad's API shows them in
// AllocationMetric.ScoreMetaData (what `alloc status -verbose` lists).
type NodeScoreMeta struct {
	NodeID    string
	Scores    map[string]float64
	NormScore float64
}

// Meta is the scores as Nomad's ScoreMetaData: the chosen node only (Nomad
// keeps the top few; the others are not kept here).
func (s *PlacementScores) Meta() []*NodeScoreMeta {
	if s == nil {
		return nil
	}
	return []*NodeScoreMeta{{NodeID: s.NodeID, Scores: s.scorers(), NormScore: s.Normalized}}
}

// MarshalJSON writes the metric with Nomad's ScoreMetaData beside Scores.
func (m *AllocMetric) MarshalJSON() ([]byte, error) {
	type plain AllocMetric // without this method
	return json.Marshal(struct {
		*plain
		ScoreMetaData []*NodeScoreMeta
	}{(*plain)(m), m.Scores.Meta()})
}

// MarshalJSON writes the scores as Nomad's map.
func (s *PlacementScores) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.Map())
}

// UnmarshalJSON reads Nomad's map back. Every key must name the same node
// and one of the scorers Drover reports.
func (s *PlacementScores) UnmarshalJSON(b []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*s = PlacementScores{}
	for k, v := range m {
		i := strings.LastIndex(k, scoreNodeSeparator)
		if i < 0 {
			return fmt.Errorf("score %q: want <node ID>.<scorer>", k)
		}
		node, scorer := k[:i], k[i+1:]
		if s.NodeID != "" && node != s.NodeID {
			return fmt.Errorf("score %q: scores name nodes %s and %s", k, s.NodeID, node)
		}
		s.NodeID = node
		switch scorer {
		case scoreBinpack:
			s.Binpack = v
		case scoreAntiAffinity:
			s.JobAntiAffinity = v
		case scoreReschedule:
			s.ReschedulePenalty = v
		case scoreNormalized:
			s.Normalized = v
		case scoreAffinity:
			s.Affinity, s.HasAffinity = v, true
		case scoreSpread:
			s.Spread, s.HasSpread = v, true
		default:
			return fmt.Errorf("score %q: unknown scorer %q", k, scorer)
		}
	}
	return nil
}
