#!/usr/bin/env bash
# Issue 17's start at scale: `marlise-bench scale` over two plugin sets, chosen by LV2_PATH.
# "stock": a folder of links to the bundles of the packages scripts/setup.sh installs (and lv2-dev's
# specifications); "all": every folder lilv searches. Usage: scale.sh <marlise-bench> [options].
set -euo pipefail
bench=$1
shift
folders="${LV2_PATH:-$HOME/.lv2:/usr/lib/x86_64-linux-gnu/lv2:/usr/lib/lv2:/usr/local/lib/lv2}"
stock=$(mktemp -d "${TMPDIR:-/tmp}/marlise-stock-lv2.XXXXXX")
trap 'rm -rf "$stock"' EXIT
# Every bundle folder those packages install, wherever it is on the search path.
dpkg -L lv2-dev lv2-examples swh-lv2 mda-lv2 2>/dev/null | grep -E '/lv2/[^/]+\.lv2$' | while read -r bundle; do
    if [ -d "$bundle" ]; then ln -sfn "$bundle" "$stock/$(basename "$bundle")"; fi
done
"$bench" scale --stock "$stock" --all "$folders" "$@"
