#!/usr/bin/env bash
# make bench: whole-command timings of tandem (loading included), reported as
# throughput. Nothing here asserts a time: the figures are for the README and notes.
#   bench/run.sh BUILD_DIR [section ...]    sections: tokenize (default: all)
set -euo pipefail
BUILD=${1:-build}
shift || true
SECTIONS=${*:-tokenize}
TANDEM=$BUILD/tandem
SHARED=$(cd "$(dirname "$0")/../.." && pwd)/shared
OUT=bench/out
mkdir -p "$OUT"

# Median wall time in seconds of N runs of a command (output discarded).
median_time() {
  local n=$1; shift
  local ts=()
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  done
  printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

bench_tokenize() {
  local text=$OUT/kjv-1mb.txt
  if ! command -v bible >/dev/null; then echo "tokenize: the bible command (package bible-kjv) is missing"; return; fi
  bible -f gen1:1-rev22:21 > "$OUT/kjv.txt"  # whole, then cut: head on a pipe would kill bible with SIGPIPE
  head -c 1000000 "$OUT/kjv.txt" > "$text"
  if [ ! -d "$SHARED/fixtures/tokenizer" ]; then echo "tokenize: $SHARED/fixtures/tokenizer absent, skipped"; return; fi
  echo "== tokenize: first 1,000,000 bytes of the KJV Bible, whole process, 1 thread (median of 5) =="
  printf '%-12s %10s %10s %12s %14s %18s\n' vocab seconds MB/s tokens tokens/s "vs reference"
  for v in llama-spm:0.74 gpt-2:0.40; do
    local name=${v%%:*} ref=${v##*:}
    local model=$SHARED/fixtures/tokenizer/ggml-vocab-$name.gguf
    local n t
    n=$("$TANDEM" tokenize -m "$model" -f "$text" --ids --no-special | wc -w)
    t=$(median_time 5 "$TANDEM" tokenize -m "$model" -f "$text" --ids --no-special)
    awk -v name="$name" -v t="$t" -v n="$n" -v ref="$ref" \
      'BEGIN {printf "%-12s %10.3f %10.2f %12d %14.0f %17.2fx\n", name, t, 1.0 / t, n, n / t, ref / t}'
  done
  echo "(reference: llama.cpp's tokenizer takes 0.74 s (llama-spm) and 0.40 s (gpt-2) on this kind of machine)"
}

for s in $SECTIONS; do
  "bench_$s"
done
