#!/usr/bin/env bash
# make bench: whole-command timings of tandem (loading included), reported as
# throughput. Nothing here asserts a time: the figures are for the README and notes.
#   bench/run.sh BUILD_DIR [section ...]    sections: tokenize engine (default: all)
set -euo pipefail
BUILD=${1:-build}
shift || true
SECTIONS=${*:-tokenize engine}
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

# Issue #3's shapes with random weights: the 125M llama (dim 768, 12 layers, 12/4
# heads, ffn 2048, the llama-spm vocab) per weight type against the reference's
# figures, and two draft-sized shapes (vocab 4096) for per-token overhead.
bench_engine() {
  local spm=$SHARED/fixtures/tokenizer/ggml-vocab-llama-spm.gguf
  local v4k=models/house-tokenizer.gguf
  if [ ! -f "$spm" ]; then echo "engine: $spm absent, skipped"; return; fi
  echo "== engine: tandem bench, 2 threads, median of 3 =="
  printf '%-28s %10s %10s %10s %10s %12s\n' model "pp128 t/s" "ref pp" "tg64 t/s" "ref tg" "tg GB/s"
  for row in Q8_0:2145:315 Q4_0:1919:497 Q4_K_M:1721:372 F16:960:85; do
    IFS=: read -r type ref_pp ref_tg <<<"$row"
    local m=$OUT/m125-$type.gguf
    [ -f "$m" ] || "$TANDEM" gguf synth --dim 768 --layers 12 --heads 12 --kv-heads 4 --ffn 2048 \
        --vocab-from "$spm" --type "$type" -o "$m" >/dev/null
    local j
    j=$("$TANDEM" bench -m "$m" -t 2 -p 128 -n 64 -r 3 --json)
    printf '%-28s %10.0f %10s %10.1f %10s %12.1f\n' "125M $type" "$(jq .pp_tokens_per_s <<<"$j")" "$ref_pp" \
      "$(jq .tg_tokens_per_s <<<"$j")" "$ref_tg" "$(jq '.tg_weight_bytes_per_s / 1e9' <<<"$j")"
  done
  # The ceiling of the tg GB/s column: streaming a buffer of the model's size,
  # in small pages (a mapped file) and in huge pages (how the engine holds weights).
  local bw
  bw=$("$BUILD/bench/memory_bench" --benchmark_filter='memory_read/128/2/' --benchmark_format=json 2>/dev/null |
       jq -r '[.benchmarks[].bytes_per_second / 1e9] | map(tostring) | join(" ")')
  read -r bw_small bw_huge <<<"$bw"
  printf '(streaming 128 MiB with 2 threads here and now: %.1f GB/s in small pages, %.1f GB/s in huge pages; build/bench/memory_bench)\n' \
    "$bw_small" "$bw_huge"
  echo
  printf '%-28s %10s %10s %12s %12s\n' model "tg t/s" "ref tg" "5-batch t/s" "T(5)/T(1)"
  for row in 12.6M:384:6:6:2:1024:1750 1.6M:128:3:4:2:384:7100; do
    IFS=: read -r name dim layers heads kv ffn ref_tg <<<"$row"
    local m=$OUT/draft-$name.gguf
    [ -f "$m" ] || "$TANDEM" gguf synth --dim "$dim" --layers "$layers" --heads "$heads" --kv-heads "$kv" \
        --ffn "$ffn" --vocab-from "$v4k" --type Q8_0 -o "$m" >/dev/null
    local j
    j=$("$TANDEM" bench -m "$m" -t 2 -p 32 -n 128 -r 3 --batches 1,5 --json)
    printf '%-28s %10.0f %10s %12.0f %11.2fx\n' "$name Q8_0" "$(jq .tg_tokens_per_s <<<"$j")" "$ref_tg" \
      "$(jq '.batches[1].tokens_per_s' <<<"$j")" "$(jq '.batches[1].time_vs_1' <<<"$j")"
  done
}

for s in $SECTIONS; do
  "bench_$s"
done
