#!/usr/bin/env bash
# The tests: installs what is missing, checks formatting, builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift format lint --strict --recursive Package.swift Sources Tests
swift build --build-tests
swift test
