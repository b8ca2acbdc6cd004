#!/usr/bin/env bash
# make demo: tandem's main job on its built-in defaults. Uses the house models in
# models/ when they are there; until then, the reference fixtures laid beside the
# checkout (../shared), which is where CI and a fresh clone find them.
set -euo pipefail
TANDEM=${1:-build/tandem}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$(cd "$ROOT/.." && pwd)/shared/fixtures

if [ -f "$ROOT/models/house-large.gguf" ]; then
  MODEL=$ROOT/models/house-large.gguf
elif [ -f "$SHARED/models/llama-gqa-spm-q8_0.gguf" ]; then
  MODEL=$SHARED/models/llama-gqa-spm-q8_0.gguf
else
  echo "demo: no model found (models/house-large.gguf or ../shared/fixtures/models)" >&2
  exit 1
fi
PROMPT="In the beginning God created the heaven and the earth."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "The model file: tandem gguf info (first lines)"
"$TANDEM" gguf info "$MODEL" --max-items 4 | head -30

step "Tokenizing with the model's own tokenizer: tandem tokenize"
"$TANDEM" tokenize -m "$MODEL" -p "$PROMPT"

step "Generating: tandem generate (greedy, 32 tokens)"
"$TANDEM" generate -m "$MODEL" -p "$PROMPT" -n 32 --temp 0

step "Speed: tandem bench"
"$TANDEM" bench -m "$MODEL" -p 64 -n 32 -r 3
