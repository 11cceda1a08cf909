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
// "<node ID>.<scorer>"; kept as fields they cost 64 bytes an allocation,
// where that map (two entries, two 45-byte keys) cost about 400, a fifth
// of the servers' memory per allocation at a million allocations.
type PlacementScores struct {
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	NodeID     string
	Binpack    float64
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
	scoreBinpack    = "binpack"
	scoreNormalized = "normalized-score"
	scoreAffinity   = "node-affinity"
	scoreSpread     = "allocation-spread"
)

// Map is the scores as Nomad's Scores map.
func (s *PlacementScores) Map() map[string]float64 {
	if s == nil {
		return nil
	}
	m := map[string]float64{
		s.NodeID + "." + scoreBinpack:    s.Binpack,
		s.NodeID + "." + scoreNormalized: s.Normalized,
	}
	if s.HasAffinity {
		m[s.NodeID+"."+scoreAffinity] = s.Affinity
	}
	if s.HasSpread {
		m[s.NodeID+"."+scoreSpread] = s.Spread
	}
	return m
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
		i := strings.LastIndexByte(k, '.')
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
