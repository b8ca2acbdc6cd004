#!/usr/bin/env bash
# Installs exactly the Debian packages tandem's build, tests and demo need.
# Idempotent: does nothing (not even apt-get update) when all are present.
set -euo pipefail

PACKAGES=(
  g++ cmake make pkg-config
  nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  unicode-data            # Unicode Character Database: tokenizer tables are generated from it
  clang libclang-rt-14-dev  # libFuzzer for the GGUF reader fuzz target
  bible-kjv               # public-domain corpus: tokenizer benchmark, house models
  jq                      # bench scripts read the --json output of tandem commands
  libopenblas-dev         # sgemm for the trainer (src/tandem/train)
  libsentencepiece-dev    # trains the house tokenizer (src/tandem/data)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
