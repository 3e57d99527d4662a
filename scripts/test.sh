#!/usr/bin/env bash
# The tests: installs what is missing, checks formatting, builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift format lint --strict --recursive Package.swift Sources Tests
swift build --build-tests

# Runs `swift test` with the given arguments, bounded to $1 seconds. A test process that hangs (a
# known, rare hang of the test runner itself, under investigation: README, "Known defects") is
# stopped and the pass run once more, loudly; a test that fails is never retried.
run_pass() {
    local limit=$1 status=0
    shift
    timeout --kill-after=10 "$limit" swift test "$@" || status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "WARNING: swift test $* was still running after $limit s and was stopped; running it once more" >&2
        timeout --kill-after=10 "$limit" swift test "$@"
    else
        return "$status"
    fi
}

# Tests that use JACK take turns (libjack talks to one server per process), and each suite's time
# limit counts its wait, so the heavy whole-stack tests (chaos, hostile input, power cut) run in a
# second pass, on their own.
run_pass 300 --skip StackTests
run_pass 900 --filter StackTests
