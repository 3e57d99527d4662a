#!/usr/bin/env bash
# Where a knob turn's time goes: starts jackd (dummy), marlise-host, marlise-bridge and
# marlise-session (release builds) on ports and a JACK server name of their own, runs
# Benchmarks/knob_turns.py against the session, and stops what it started, by PID.
# usage: [BIN=<folder of release binaries>] bash Benchmarks/knob_stack.sh [COUNT] [--perf | --strace]
#   --perf: `perf record -g` of the session and the bridge during the timed calls (perf.*.data in
#   the current folder); --strace: `strace -f -c` of both, their system calls counted (strace.*.txt).
set -euo pipefail
count=${1:-5000}
extra=()
case "${2:-}" in --perf | --strace) extra=("$2") ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$root/.build/release}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
name="marlise-knobs-$$"
work=$(mktemp -d)
host_port=$(port); feedback_port=$(port)
rep="tcp://127.0.0.1:$(port)"; pub="tcp://127.0.0.1:$(port)"; health="tcp://127.0.0.1:$(port)"
session="tcp://127.0.0.1:$(port)"
pids=()
stop() {
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap stop EXIT
trap "exit 1" INT TERM
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || { echo "knob_stack: gave up waiting for $*" >&2; exit 1; }
        sleep 0.1
    done
}
/usr/bin/jackd --no-realtime -n "$name" -d dummy -r 48000 -p 256 >"$work/jackd.log" 2>&1 &
pids+=($!); jackd_pid=$!
wait_for 20 env JACK_DEFAULT_SERVER="$name" jack_lsp
"$bin/marlise-host" -p "$host_port" -f "$feedback_port" --jack-server "$name" >"$work/host.log" 2>&1 &
pids+=($!); host_pid=$!
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$host_port"
JACK_DEFAULT_SERVER="$name" MOD_HOST_PORT=$host_port MOD_HOST_FEEDBACK_PORT=$feedback_port \
    MODHOST_BRIDGE_REP=$rep MODHOST_BRIDGE_PUB=$pub MODHOST_BRIDGE_HEALTH=$health \
    "$bin/marlise-bridge" >"$work/bridge.log" 2>&1 &
pids+=($!); bridge_pid=$!
MODHOST_BRIDGE_ENDPOINT=$rep MODHOST_BRIDGE_PUB=$pub MODHOST_BRIDGE_HEALTH=$health \
    SESSION_MANAGER_DATA_DIR="$work/data" \
    "$bin/marlise-session" --rpc "$session" --pub "tcp://127.0.0.1:$(port)" >"$work/session.log" 2>&1 &
pids+=($!); session_pid=$!
healthy='
import json, sys, zmq
s = zmq.Context().socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0); s.setsockopt(zmq.RCVTIMEO, 5000)
s.connect(sys.argv[1]); s.send(json.dumps({"method": "health_check", "params": {}}).encode())
assert json.loads(s.recv())["result"].get("healthy") is True
'
wait_for 120 python3 -c "$healthy" "$session"
sleep 1
python3 "$root/Benchmarks/knob_turns.py" "$session" "$count" session=$session_pid bridge=$bridge_pid host=$host_pid \
    jackd=$jackd_pid "${extra[@]}"
