// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"errors"

	"github.com/droverhq/drover/server/state"
)

// ErrUnknownNode is returned to a client whose node the servers do not know
// (for example after a dev agent restart): it should register again. Its
// text crosses RPC, so clients match on ErrUnknownNodeText.
var ErrUnknownNode = errors.New(ErrUnknownNodeText)

// ErrUnknownNodeText is ErrUnknownNode's message.
const ErrUnknownNodeText = "unknown node"

type stateSnapshot = state.Snapshot
