#!/usr/bin/env bash
# make demo: what tandem does today, on built-in inputs.
set -euo pipefail
TANDEM=${1:-build/tandem}
echo "tandem demo"
