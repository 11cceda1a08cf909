#!/usr/bin/env bash
# Copyright (c) Drover authors
# SPDX-License-Identifier: MPL-2.0
#
# A private containerd daemon for the containerd driver's tests.
#
#   scripts/containerd-test-env.sh start   install what is missing, start the
#                                          daemon, print `export ...` lines
#   scripts/containerd-test-env.sh stop    kill it and remove its directories
#   scripts/containerd-test-env.sh status  exit 0 when it answers
#
# Use it as:
#   eval "$(scripts/containerd-test-env.sh start)"
#   trap 'scripts/containerd-test-env.sh stop' EXIT
#
# The daemon has its own config, root, state and socket under
# $DROVER_TEST_CONTAINERD_DIR (default /tmp/drover-test-containerd): it never
# touches a system containerd or /var/lib/containerd. Its CRI plugin is off
# (the tests need none of it, and it would want CNI). Needs root, as CI is.
#
# Debian's containerd (1.6), runc and busybox-static are installed with
# apt-get when missing; that step costs nothing when they are present.
# The tests build their OCI image from /bin/busybox, so no registry is needed.
set -euo pipefail

DIR="${DROVER_TEST_CONTAINERD_DIR:-/tmp/drover-test-containerd}"
SOCK="$DIR/containerd.sock"
PIDFILE="$DIR/containerd.pid"
LOG="$DIR/containerd.log"

log() { echo "containerd-test-env: $*" >&2; }

install_missing() {
	local missing=()
	command -v containerd >/dev/null || missing+=(containerd)
	command -v containerd-shim-runc-v2 >/dev/null || missing+=(containerd)
	command -v runc >/dev/null || missing+=(runc)
	# The tests' image is made of /bin/busybox alone: it must be the static
	# build (Debian's busybox package is dynamic and conflicts with it).
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" || missing+=(busybox-static)
	if [ "${#missing[@]}" -eq 0 ]; then
		return
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "missing ${missing[*]}: run as root, or: sudo apt-get install -y containerd runc busybox-static"
		exit 1
	fi
	log "installing ${missing[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# The package's postinst may try to start the system service; on a
	# machine without systemd that is a no-op, and we never use it.
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# answers reports whether a daemon listens on our socket. ctr is part of
# Debian's containerd package.
answers() {
	[ -S "$SOCK" ] && timeout 5 ctr --address "$SOCK" version >/dev/null 2>&1
}

running_pid() {
	[ -f "$PIDFILE" ] || return 1
	local pid
	pid="$(cat "$PIDFILE")"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

print_env() {
	echo "export DROVER_TEST_CONTAINERD_ADDR=$SOCK"
}

start() {
	install_missing
	if running_pid >/dev/null && answers; then
		log "already running on $SOCK"
		print_env
		return
	fi
	stop_quiet
	mkdir -p "$DIR/root" "$DIR/state"
	cat >"$DIR/config.toml" <<EOF
version = 2
root = "$DIR/root"
state = "$DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""
EOF
	local began=$SECONDS
	# setsid: the daemon must not die with the shell that started it, nor
	# get the terminal's signals.
	setsid containerd --config "$DIR/config.toml" --log-level info >"$LOG" 2>&1 </dev/null &
	echo $! >"$PIDFILE"
	for _ in $(seq 1 150); do
		if answers; then
			log "containerd $(ctr --address "$SOCK" version 2>/dev/null | awk '/Server:/{s=1} s&&/Version:/{print $2; exit}') ready on $SOCK after $((SECONDS - began))s"
			print_env
			return
		fi
		if ! running_pid >/dev/null; then
			break
		fi
		sleep 0.2
	done
	log "containerd did not answer on $SOCK; its log ($LOG):"
	tail -n 30 "$LOG" >&2 || true
	stop_quiet
	exit 1
}

# stop_quiet kills the daemon and the shims it started for our namespaces,
# unmounts what is left under our root and removes the directory.
stop_quiet() {
	local pid
	if pid="$(running_pid)"; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	# Shims outlive the daemon by design; ours are the ones whose
	# -address is our socket.
	local shim
	for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK" || true); do
		kill -9 "$shim" 2>/dev/null || true
	done
	# runc removes a container's cgroup and state but not the parents it
	# made for the tests' namespace (drover-test, see the driver's tests).
	# The shim keeps runc's state under /run/containerd/runc whatever our
	# state dir; only empty directories are removed.
	local d
	for d in /sys/fs/cgroup/*/drover-test /sys/fs/cgroup/drover-test /run/containerd/runc/drover-test; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null || true
	done
	if [ -d "$DIR" ]; then
		# Leftover rootfs mounts of killed tasks, deepest first.
		awk -v d="$DIR/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done
		rm -rf "$DIR"
	fi
}

case "${1:-}" in
start) start ;;
stop)
	stop_quiet
	log "stopped"
	;;
status)
	if answers; then
		log "running on $SOCK"
		print_env
	else
		log "not running"
		exit 1
	fi
	;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
