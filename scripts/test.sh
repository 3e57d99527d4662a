#!/usr/bin/env bash
# The tests: installs what is missing, checks formatting, builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift format lint --strict --recursive Package.swift Sources Tests
swift build --build-tests

# Tests that use JACK take turns (libjack talks to one server per process), and each suite's time
# limit counts its wait, so the heavy whole-stack tests (chaos, hostile input, power cut) run in a
# second pass, on their own. Each pass is bounded in time: a hang fails the run, loudly.
timeout --kill-after=10 600 swift test --skip StackTests
timeout --kill-after=10 1200 swift test --filter StackTests
