#!/usr/bin/env bash
# Benchmarks: installs what is missing (pyzmq for the reference's stack), builds in release mode and
# prints figures. Arguments go to marlise-bench: `scripts/bench.sh messaging`, `scripts/bench.sh supervisor`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
python3 -c "import zmq" 2>/dev/null || python3 -m pip install --quiet pyzmq
swift build -c release
exec .build/release/marlise-bench "${@:-messaging}"
