#!/usr/bin/env bash
# The short fuzz run of the test suite: the GGUF reader fuzz target for N seconds
# over the committed seed corpus (new inputs go to a scratch folder, so the
# checkout is never modified). Fails on any crash, leak or sanitizer report.
set -euo pipefail
bin=$1 corpus=$2 seconds=${3:-30}
if [ ! -x "$bin" ]; then echo "fuzz binary $bin not built (run make fuzz-build)"; exit 1; fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$scratch/" "$scratch" "$corpus" 2>&1 | tail -25
