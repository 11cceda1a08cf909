// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package structs is Drover's internal model: jobs, task groups, tasks,
// allocations, evaluations and nodes, with their validation and defaults.
//
// Field names follow Nomad's JSON wire names exactly (no json tags), so the
// HTTP layer can encode these types directly and Nomad's API client decodes
// them. Unlike the wire types, fields are values, not pointers: by the time a
// job reaches this package it has been canonicalised and every default is
// filled in.
//
// Objects stored in the state store are shared between readers. Never mutate
// one in place: Copy it first.
package structs
