#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the whole stack under the supervisor on its
# built-in defaults (health at http://127.0.0.1:8080/health). Extra arguments go to marlise-supervisor.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release
exec .build/release/marlise-supervisor "$@"
