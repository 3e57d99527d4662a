#!/usr/bin/env bash
# Benchmarks: installs what is missing (pyzmq for the reference's stack), builds in release mode and
# prints figures. Arguments go to marlise-bench: `scripts/bench.sh messaging`, `scripts/bench.sh supervisor`.
# `scripts/bench.sh catalogue [LABEL:LV2_PATH[:warm] ...]`: the session's start against the plugins
# installed (Benchmarks/catalogue_start.py); by default the installed set without, then with, its cache.
# `scripts/bench.sh knobs [COUNT] [--perf | --strace]`: where a knob turn's time goes
# (Benchmarks/knob_stack.sh: CPU and context switches per call of every thread of the stack).
# `scripts/bench.sh scale [--runs N]`: the whole stack with the stock bundles vs everything installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
python3 -c "import zmq" 2>/dev/null || python3 -m pip install --quiet pyzmq
swift build -c release
if [ "${1:-}" = catalogue ]; then
    shift
    folders="${LV2_PATH:-$HOME/.lv2:/usr/lib/x86_64-linux-gnu/lv2:/usr/lib/lv2:/usr/local/lib/lv2}"
    [ $# -gt 0 ] || set -- "installed, no cache:$folders" "installed, cached:$folders:warm"
    exec python3 Benchmarks/catalogue_start.py .build/release/marlise-session "$@"
fi
if [ "${1:-}" = knobs ]; then
    shift
    script="$PWD/Benchmarks/knob_stack.sh"
    cd - >/dev/null  # perf's and strace's files land where the command was run
    exec bash "$script" "$@"
fi
if [ "${1:-}" = scale ]; then
    shift
    exec bash Benchmarks/scale.sh .build/release/marlise-bench "$@"
fi
exec .build/release/marlise-bench "${@:-messaging}"
