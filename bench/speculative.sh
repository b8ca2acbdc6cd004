#!/usr/bin/env bash
# Speculative decoding on a model pair: for K = 1..8 (and the adaptive rule),
# greedy acceptance, mean accepted length, tokens per target pass, tokens/s
# with the draft and with the target alone, the speedup, whether the text is
# identical to the target alone, and the speedup the cost model predicts:
#
#   predicted(K) = tokens_per_pass(K) / (K * c + T(K+1) / T(1))
#
# (Leviathan et al., arXiv 2211.17192, Section 3.4, with the verification cost
# measured instead of assumed flat): c is one draft pass relative to one target
# pass (their generation tokens/s, from `tandem bench`), T(n) the time of an
# n-token batch on the target, or on COST_MODEL when given (e.g. the 125M
# memory-bound shape of bench/, where verifying K tokens costs about one).
# Nothing here asserts a time; the figures are for the README.
#
#   bench/speculative.sh TARGET.gguf DRAFT.gguf
#   env: BUILD (build), THREADS (2), N (128 tokens), KMAX (8), REPS (1; medians over prompts x runs),
#        PROMPTS (file, one prompt a line; default the demo's 24), COST_MODEL (GGUF for T(K+1)/T(1)), LOOKUP (n-gram: adds
#        prompt-lookup rows and chain rows, lookup first and the draft model where nothing matches)
# Needs jq (Debian package jq).
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
TARGET=$1
DRAFT=$2
BUILD=${BUILD:-build}
TANDEM=$BUILD/tandem
THREADS=${THREADS:-2}
N=${N:-128}
KMAX=${KMAX:-8}
REPS=${REPS:-1}
COST_MODEL=${COST_MODEL:-$TARGET}
LOOKUP=${LOOKUP:-0}
command -v jq >/dev/null || { echo "speculative.sh: jq is missing (apt-get install jq)"; exit 1; }
[ -x "$TANDEM" ] || { echo "speculative.sh: $TANDEM not found (set BUILD)"; exit 1; }

prompts=()
if [ -n "${PROMPTS:-}" ]; then
  mapfile -t prompts < "$PROMPTS"
else
  # The 24 built-in KJV prompts of the demo (opening words of validation verses):
  # acceptance over a few prompts swings by ten points from one set to another.
  mapfile -t prompts < <(jq -r '.prompt' "$(dirname "$0")/../scripts/demo_prompts.jsonl")
fi

# Generation tokens/s and batch costs, once per model.
tg() { "$TANDEM" bench -m "$1" -t "$THREADS" -p 32 -n 64 -r 5 --json | jq '.tg_tokens_per_s'; }
tg_target=$(tg "$TARGET")
tg_draft=$(tg "$DRAFT")
c=$(awk -v a="$tg_target" -v b="$tg_draft" 'BEGIN { printf "%.4f", a / b }')
tg_target=$(printf '%.1f' "$tg_target")
tg_draft=$(printf '%.1f' "$tg_draft")
batches=$(seq -s, 1 $((KMAX + 1)))
batch_json=$("$TANDEM" bench -m "$COST_MODEL" -t "$THREADS" -p 32 -n 8 -r 5 --batches "$batches" --json)
batch_cost() { jq ".batches[] | select(.k == $1) | .time_vs_1" <<<"$batch_json"; }

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# One configuration over every prompt, REPS times: prints the table row.
#   row LABEL K C GENERATE-OPTIONS...   (C: the draft's relative cost; 0 for lookup;
#   K "auto": the cost model uses the mean drafted length, rounded)
row() {
  local label=$1 k=$2 c=$3; shift 3
  local acc=0 drafted=0 rounds=0 draft_rounds=0 gen=0 same=yes sp=() spec=() alone=() model_rounds=0
  for p in "${prompts[@]}"; do
    for _ in $(seq "$REPS"); do
      local j
      j=$("$TANDEM" generate -m "$TARGET" "$@" -p "$p" -n "$N" --temp 0 --ignore-eos -t "$THREADS" --compare --json)
      acc=$((acc + $(jq '.speculative.accepted' <<<"$j")))
      drafted=$((drafted + $(jq '.speculative.drafted' <<<"$j")))
      rounds=$((rounds + $(jq '.speculative.rounds' <<<"$j")))
      draft_rounds=$((draft_rounds + $(jq '.speculative.draft_rounds' <<<"$j")))
      model_rounds=$((model_rounds + $(jq '.speculative.rounds_by_source[-1]' <<<"$j")))
      gen=$((gen + $(jq '.n_generated' <<<"$j")))
      [ "$(jq '.baseline.identical' <<<"$j")" = true ] || same=no
      sp+=("$(jq '.speedup' <<<"$j")")
      spec+=("$(jq '.generation_tokens_per_s' <<<"$j")")
      alone+=("$(jq '.baseline.generation_tokens_per_s' <<<"$j")")
    done
  done
  local msp mspec malone cost
  # A chain (lookup, then the model): only the model's rounds cost c per token.
  if [ "$c" = chain ]; then c=$(awk -v c="$CHAIN_C" -v m="$model_rounds" -v r="$draft_rounds" 'BEGIN { printf "%.4f", (r > 0 ? c * m / r : 0) }'); fi
  if [ "$k" = auto ]; then k=$(awk -v d="$drafted" -v r="$draft_rounds" 'BEGIN { k = r > 0 ? d / r + 0.5 : 1; printf "%d", k }'); fi
  msp=$(printf '%s\n' "${sp[@]}" | median)
  mspec=$(printf '%s\n' "${spec[@]}" | median)
  malone=$(printf '%s\n' "${alone[@]}" | median)
  cost=$(batch_cost $((k + 1)))
  awk -v l="$label" -v a="$acc" -v d="$drafted" -v r="$rounds" -v dr="$draft_rounds" -v g="$gen" -v s="$mspec" \
      -v b="$malone" -v x="$msp" -v same="$same" -v k="$k" -v c="$c" -v t="$cost" 'BEGIN {
    tpp = r > 0 ? g / r : 0
    pred = tpp / (k * c + t)
    rate = d > 0 ? 100 * a / d : 0
    mal = dr > 0 ? a / dr : 0
    printf "| %-9s | %7.1f%% | %8.2f | %8.2f | %9.1f | %9.1f | %6.2fx | %-9s | %11.2f | %8.2fx |\n",
      l, rate, mal, tpp, s, b, x, same, t, pred
  }'
}

echo "== speculative decoding: target $(basename "$TARGET"), draft $(basename "$DRAFT") =="
echo "greedy, $N tokens per prompt, ${#prompts[@]} prompts x $REPS runs, $THREADS threads; medians of tokens/s and speedup"
echo "c = draft pass / target pass = $c (generation $tg_draft vs $tg_target t/s); T(K+1)/T(1) on $(basename "$COST_MODEL")"
echo
echo "| K         |  accept  | mean acc | tok/pass | spec t/s  | alone t/s | speedup | identical | T(K+1)/T(1) | predicted |"
echo "| --------- | -------- | -------- | -------- | --------- | --------- | ------- | --------- | ----------- | --------- |"
for k in $(seq 1 "$KMAX"); do
  row "$k" "$k" "$c" --draft "$DRAFT" --draft-max "$k"
done
row "adaptive" auto "$c" --draft "$DRAFT" --draft-max "$KMAX" --draft-adaptive
if [ "$LOOKUP" -gt 0 ]; then
  for k in 2 4 8; do
    if [ "$k" -le "$KMAX" ]; then row "lookup K$k" "$k" 0 --lookup "$LOOKUP" --draft-max "$k"; fi
  done
  CHAIN_C=$c
  for k in $(seq 1 "$KMAX"); do
    row "chain K$k" "$k" chain --lookup "$LOOKUP" --lookup-min 2 --draft "$DRAFT" --draft-max "$k"
  done
fi
echo
echo "(adaptive: K picked per round by the cost model of arXiv 2211.17192 at the running acceptance; predicted at the mean K drafted)"
echo "(lookup rows: prompt lookup, no draft model, so c = 0; chain rows: lookup where an n-gram of 2..$LOOKUP matches, else the draft model, c scaled by the model's share of rounds)"
