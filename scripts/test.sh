#!/usr/bin/env bash
# The tests: installs what is missing, checks formatting, builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only for the tests: headless Chromium renders the operator's page in OperatorPageProcessTests
# (about 120 MB from Debian's archive; installed in 24 s on the development machine, and the test
# takes about 15 s of the real-process pass).
extra_packages=(chromium)
source scripts/setup.sh
swift format lint --strict --recursive Package.swift Sources Tests
swift build --build-tests

# Three passes, each bounded in time (a hang fails the run, loudly):
# 1. the quick tests, in parallel: their time bounds (a reply within 10 s, say) assume a machine
#    that is not also running real audio;
# 2. the tests that run real sound through JACK, marlise-host, the bridge and the recorder (they take
#    turns at JACK, since libjack talks to one server per process, and each suite's time limit
#    counts its wait);
# 3. the heavy whole-stack tests (chaos, hostile input, power cut), on their own, with the hostile
#    HTTP test: it counts this process's CPU, which the quick tests running beside it would inflate
#    (the whole-stack tests' work is in their child processes).
alone='StackTests|HealthHTTPHostileTests'
audio='AudioHostTests|AudioPathTests|ParameterOrderTests|RecordingTests|BridgeAudioTests|JackTests|SupervisorProcessTests|OperatorPageProcessTests'
timeout --kill-after=10 600 swift test --skip "$alone|$audio"
timeout --kill-after=10 900 swift test --filter "$audio"
timeout --kill-after=10 1200 swift test --filter "$alone"
