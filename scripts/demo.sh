#!/usr/bin/env bash
# make demo: tandem's main job on its built-in house models (models/): the large
# model alone, then with the small model drafting (speculative decoding) on a
# few prompts — same text, fewer large-model passes — first as the house model
# is (it fits in cache), then stored in F32 so that it streams from memory as
# LLMs do; and a cascade where the small model answers first and hands hard
# prompts to the large one.
set -euo pipefail
TANDEM=${1:-build/tandem}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LARGE=$ROOT/models/house-large.gguf
SMALL=$ROOT/models/house-small.gguf
THREADS=${THREADS:-2}
# 256 tokens: a run of 64 (about 10 ms) is mostly start-up noise.
N=${N:-256}
# Draft up to 5 tokens a round: copied from earlier in the text where its last
# 2-3 tokens occurred before (prompt lookup), guessed by house-small elsewhere;
# how many, the adaptive rule decides from the acceptance and the measured costs
# (house-large stays in cache, so each verified token costs time too). Over the
# 24 prompts of scripts/demo_prompts.jsonl, twice, 64 tokens each in its own
# process: 1.23x, against 1.12x for always 5.
DRAFT_OPTS=${DRAFT_OPTS:-"--lookup 3 --lookup-min 2 --draft-max 5 --draft-adaptive"}
for f in "$LARGE" "$SMALL"; do
  [ -f "$f" ] || { echo "demo: $f is missing (make house-models rebuilds it)" >&2; exit 1; }
done
bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }

bold "tandem demo: house-large ($(du -h "$LARGE" | cut -f1)) and house-small ($(du -h "$SMALL" | cut -f1)), trained on the KJV Bible"
"$TANDEM" generate -m "$LARGE" -p "In the beginning God created" -n 24 --temp 0 -t "$THREADS"

bold "Speculative decoding: house-small drafts ($DRAFT_OPTS), house-large verifies (greedy, $N tokens, $THREADS threads)"
PROMPTS=(
  "And God said, Let there be"
  "The LORD is my shepherd;"
  "And Jesus answered and said unto them,"
  "Blessed are the"
  "And it came to pass after these things, that"
)
# One row per prompt and one for all of them: target $1 alone, then drafted for.
spec_table() {
  local target=$1 tot_a=0 tot_s=0 j
  printf '%-42s %9s %9s %8s %10s %8s %9s\n' prompt "alone t/s" "spec t/s" speedup acceptance "mean acc" identical
  for p in "${PROMPTS[@]}"; do
    j=$("$TANDEM" generate -m "$target" --draft "$SMALL" $DRAFT_OPTS -p "$p" -n "$N" --temp 0 --ignore-eos \
          -t "$THREADS" --compare --json)
    printf '%-42s %9.0f %9.0f %7.2fx %9.0f%% %8.2f %9s\n' "\"$p\"" \
      "$(jq '.baseline.generation_tokens_per_s' <<<"$j")" "$(jq '.generation_tokens_per_s' <<<"$j")" \
      "$(jq '.speedup' <<<"$j")" "$(jq '.speculative.acceptance_rate * 100' <<<"$j")" \
      "$(jq '.speculative.mean_accepted_length' <<<"$j")" "$(jq -r '.baseline.identical' <<<"$j")"
    tot_a=$(awk -v t="$tot_a" -v r="$(jq '.baseline.generation_tokens_per_s' <<<"$j")" -v n="$N" 'BEGIN { print t + n / r }')
    tot_s=$(awk -v t="$tot_s" -v r="$(jq '.generation_tokens_per_s' <<<"$j")" -v n="$N" 'BEGIN { print t + n / r }')
  done
  awk -v a="$tot_a" -v s="$tot_s" -v k="${#PROMPTS[@]}" -v n="$N" 'BEGIN {
    printf "%-42s %9.0f %9.0f %7.2fx\n", "all " k " together", k * n / a, k * n / s, a / s }'
}
spec_table "$LARGE"
echo "house-large stays in cache, so verifying K drafted tokens costs 2-3 of its own tokens and"
echo "drafting saves little time here. Where the large model streams from memory, a batch costs"
echo "about one token:"

# The same weights stored in F32 (50 MB) no longer fit in cache: the regime of
# real LLMs, where speculative decoding pays most.
WORK=$(mktemp -d)
"$TANDEM" gguf convert "$LARGE" -o "$WORK/house-large-f32.gguf" --type F32 >/dev/null
bold "The same pair with house-large stored in F32 ($(du -h "$WORK/house-large-f32.gguf" | cut -f1), tandem gguf convert), which streams from memory"
spec_table "$WORK/house-large-f32.gguf"
echo "(The F32 copy stands in for an LLM too big for the cache: in absolute terms it is slower than the"
echo "Q8_0 file above, and the speedup is against the same F32 model alone.)"
rm -rf "$WORK"

bold "One of them in full:"
"$TANDEM" generate -m "$LARGE" --draft "$SMALL" $DRAFT_OPTS -p "${PROMPTS[0]}" -n 40 --temp 0 -t "$THREADS"

# Cascade: house-small answers each prompt of the built-in KJV set (opening words
# of validation verses; the reference is the verse's continuation) and escalates
# answers whose mean token log-prob is below the threshold to house-large.
# --sweep also prints what every threshold costs in large-model tokens and
# gives in token F1 against the references.
bold "Cascade: house-small first, house-large when mean log-prob < -1.6 (scripts/demo_prompts.jsonl)"
CASCADE_OUT=$(mktemp -d)
"$TANDEM" cascade --small "$SMALL" --large "$LARGE" -i "$ROOT/scripts/demo_prompts.jsonl" \
  -o "$CASCADE_OUT/cascade.jsonl" --score mean --threshold -1.6 -n 40 -t "$THREADS" \
  --sweep --plot "$CASCADE_OUT/cost_quality.svg"
echo "per-request results: $CASCADE_OUT/cascade.jsonl (answer, model, score, reason, tokens)"
