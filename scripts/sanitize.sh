#!/usr/bin/env bash
# The tests under a sanitizer: `scripts/sanitize.sh address` or `scripts/sanitize.sh thread`.
#
# Builds everything with `-sanitize=<kind>` into its own scratch folder (.build-asan, .build-tsan),
# runs the tests, and fails on a memory error or data race reported by any process (the test runner
# or a product it spawned: supervisor, session, bridge, host, whose reports would otherwise sit
# unread in a child's log) and on a leak of our code. Reports are kept in logs/sanitize-<kind>/. Not run by CI (.ci/run): about ten minutes each
# from scratch on two cores, most of it the build.
#
# Sanitized code runs 5-20× slower, so the tests' own "this was quick" bounds are stretched
# (MARLISE_TEST_SLOWDOWN) and the whole-stack tests run fewer rounds unless told otherwise; the
# tests are told which sanitizer runs (MARLISE_TEST_SANITIZER) for the few checks it defeats.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

kind=${1:-}
case "$kind" in
    address) scratch=.build-asan ;;
    thread) scratch=.build-tsan ;;
    *)
        echo "usage: scripts/sanitize.sh address|thread" >&2
        exit 2
        ;;
esac
reports="$PWD/logs/sanitize-$kind"
rm -rf "$reports"
mkdir -p "$reports"

export MARLISE_TEST_SLOWDOWN=${MARLISE_TEST_SLOWDOWN:-5}
export MARLISE_TEST_SANITIZER=$kind
export MARLISE_CHAOS_ROUNDS=${MARLISE_CHAOS_ROUNDS:-5}
export MARLISE_POWERCUT_ROUNDS=${MARLISE_POWERCUT_ROUNDS:-20}
export MARLISE_HOSTILE_COUNT=${MARLISE_HOSTILE_COUNT:-1000}

swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
run() { swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" "$@"; }

failed=0
if [ "$kind" = address ]; then
    # LeakSanitizer reports at exit what is unreachable then; a leak does not change a process's
    # exit status here (the tests check those), the reports are judged below.
    export ASAN_OPTIONS="log_path=$reports/asan log_exe_name=1"
    export LSAN_OPTIONS="exitcode=0 suppressions=$PWD/.lsan-suppressions"
    run --skip StackTests || failed=1
    run --filter StackTests || failed=1
else
    # ThreadSanitizer cannot run what closes a JACK client: libjack stops its server-channel thread
    # with pthread_cancel while the thread waits in read(), inside the sanitizer's interceptor, and
    # the Swift toolchain's runtime then aborts the process ("thread finished with ignores
    # enabled"). So the suites that use JACK (and the whole-stack ones, which all start jackd) are
    # left to the AddressSanitizer run; see docs/development.md.
    jack='StackTests|JackTests|AudioHostTests|BridgeAudioTests|BridgeEndToEndTests|AudioPathTests|ParameterOrderTests|RecordingTests'
    jack="$jack|SupervisorProcessTests|OperatorPageProcessTests|realJackOnTheDummyDriver"
    export TSAN_OPTIONS="log_path=$reports/tsan"
    # The hostile HTTP test counts this process's CPU: alone, as in scripts/test.sh.
    run --skip "$jack|HealthHTTPHostileTests" || failed=1
    run --filter HealthHTTPHostileTests || failed=1
fi

# (LeakSanitizer also writes a file that only counts the suppressions it used.)
if grep -q -e 'ERROR: ' -e 'WARNING: ThreadSanitizer' "$reports"/* 2>/dev/null; then
    echo "sanitize: $kind sanitizer reports in $reports:" >&2
    grep -h '^SUMMARY' "$reports"/* | sort | uniq -c | sort -rn >&2 || true
    # A memory error or data race always fails the run; a leak fails it when its allocation runs
    # through our Sources/ (others, like an LV2 plugin's own, are listed above for reading).
    if grep -q -e 'ERROR: AddressSanitizer' -e 'WARNING: ThreadSanitizer' "$reports"/* ||
        grep -q "^    #.* $PWD/Sources/" "$reports"/*; then
        failed=1
    fi
fi
exit $failed
