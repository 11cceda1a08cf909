#!/bin/sh
# Copyright (c) Drover authors
# SPDX-License-Identifier: MPL-2.0
#
# Regenerates driver.pb.go and driver_grpc.pb.go from driver.proto. CI does
# not run this: the generated files are committed.
# Needs protoc (apt-get install protobuf-compiler) and, on PATH:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@latest
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@latest
set -eu
cd "$(dirname "$0")"
PATH="$PATH:$(go env GOPATH)/bin"
protoc --proto_path=. \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  driver.proto
