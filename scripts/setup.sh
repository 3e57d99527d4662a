#!/usr/bin/env bash
# Installs what building, running and testing Marlise need on Debian 12, when missing. Safe to re-run.
set -euo pipefail

packages=(
    pkg-config
    libzmq3-dev libsystemd-dev liblilv-dev libserd-dev libjack-jackd2-dev zlib1g-dev  # the C libraries we link
    jackd2 lilv-utils swh-lv2 mda-lv2 lv2-examples              # the audio server and real LV2 plugins
    curl                                                        # to read /health by hand
)
# What a caller adds (scripts/test.sh: what only the tests need), set before sourcing this file.
packages+=(${extra_packages[@]+"${extra_packages[@]}"})

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    else
        echo "setup: no Swift toolchain found; install Swift 6.2 or later (swift.org) and re-run" >&2
        exit 1
    fi
fi

# The code needs Swift 6.2 (Task.immediate, SendableMetatype); say so before a build fails on it.
swift_version=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | head -n 1)
read -r swift_major swift_minor <<< "${swift_version:-0 0}"
if [ "$swift_major" -lt 6 ] || { [ "$swift_major" -eq 6 ] && [ "$swift_minor" -lt 2 ]; }; then
    echo "setup: Swift ${swift_major}.${swift_minor} found; Marlise needs Swift 6.2 or later (swift.org)" >&2
    exit 1
fi
