#!/usr/bin/env bash
# Proxy-tuning on the house models (issue 5; Liu et al. 2024, arXiv 2401.08565):
# fine-tune house-small on one book of the corpus (the domain slice, Psalms by
# default), then steer house-large with (small tuned - small base) and report
# house-large's perplexity on held-out text of that book before and after,
# beside the small models' own and the cost off the domain.
#   scripts/proxy_tuning.sh BUILD_DIR
# The domain slice follows the corpus split (src/tandem/data/kjv_corpus.h:
# whole chapters held out): the book's verses in data/kjv/train.txt fine-tune
# house-small, its verses in data/kjv/valid.txt (never seen by either house
# model) are the held-out domain text. `bible` (package bible-kjv) prints the
# book; references are stripped as kjv_corpus does (reference and the space
# after it, trailing whitespace).
# Writes PROXY_WORK (default BUILD_DIR/proxy): the slices, the tuned model,
# JSON results, and OUT_TABLE (default models/logs/proxy-tuning.md).
set -euo pipefail
BUILD=${1:-build}
T=$BUILD/tandem
W=${PROXY_WORK:-$BUILD/proxy}
LARGE=${LARGE:-models/house-large.gguf}
SMALL=${SMALL:-models/house-small.gguf}
BOOK=${BOOK:-Psalms}
RANGE=${RANGE:-ps1:1-ps150:6}
TRAIN_TXT=${TRAIN_TXT:-data/kjv/train.txt}
VALID_TXT=${VALID_TXT:-data/kjv/valid.txt}
THREADS=${THREADS:-2}
CTX=${CTX:-256}            # perplexity chunks; the house models' context
STEPS=${STEPS:-200}        # fine-tuning steps: 200 x 4 x 256 = 205k tokens, about two passes over Psalms
BATCH=${BATCH:-4}
SEQ_LEN=${SEQ_LEN:-0}      # tokens per training sequence; 0: the model's context
LR=${LR:-3e-4}             # a tenth of house-small's peak: a fine-tune, not a fresh run (1e-3 gave a noisier offset)
ALPHAS=${ALPHAS:-"0.25 0.5 0.75 1 1.5"}
OFF_ALPHA=${OFF_ALPHA:-0.5}  # strength at which the off-domain cost is measured
OFF_CHUNKS=${OFF_CHUNKS:-20}  # chunks of the off-domain validation text scored
OUT_TABLE=${OUT_TABLE:-models/logs/proxy-tuning.md}

for f in "$T" "$LARGE" "$SMALL" "$TRAIN_TXT" "$VALID_TXT"; do
  [ -e "$f" ] || { echo "proxy_tuning.sh: $f is missing" >&2; exit 1; }
done
command -v bible >/dev/null || { echo "proxy_tuning.sh: 'bible' not found (apt-get install bible-kjv)" >&2; exit 1; }
command -v jq >/dev/null || { echo "proxy_tuning.sh: 'jq' not found" >&2; exit 1; }
mkdir -p "$W" "$(dirname "$OUT_TABLE")"

# The domain slice, split as the corpus is.
bible -f "$RANGE" | sed -E 's/^[0-9]?[A-Za-z]+[0-9]+:[0-9]+ //; s/[[:space:]]+$//' | grep -v '^$' >"$W/domain-all.txt"
grep -Fx -f "$W/domain-all.txt" "$TRAIN_TXT" >"$W/domain-train.txt"
grep -Fx -f "$W/domain-all.txt" "$VALID_TXT" >"$W/domain-valid.txt"
grep -vFx -f "$W/domain-all.txt" "$VALID_TXT" >"$W/offdomain-valid.txt"
echo "== $BOOK: $(wc -l <"$W/domain-all.txt") verses; train $(wc -l <"$W/domain-train.txt"), held out $(wc -l <"$W/domain-valid.txt")" >&2

# The tuned small model: house-small's weights, fine-tuned on the slice (same type as house-small).
TUNED=$W/house-small-$BOOK.gguf
t0=$SECONDS
"$T" train --train "$W/domain-train.txt" --valid "$W/domain-valid.txt" --tokenizer "$SMALL" --init "$SMALL" \
  --steps "$STEPS" --batch "$BATCH" --seq-len "$SEQ_LEN" --lr "$LR" --min-lr "$(awk "BEGIN{print $LR/10}")" --warmup 20 \
  --weight-decay 0.1 --clip 1 --seed 11 -t "$THREADS" --eval-every 0 --eval-batches 0 --print-every 20 \
  --type Q8_0 --name "house-small-$BOOK" -o "$TUNED" --log "$W/finetune"
FT_SECS=$((SECONDS - t0))

ppl() {  # ppl MODEL TEXT [extra args]: the JSON of tandem perplexity
  local m=$1 f=$2
  shift 2
  # --lines: one verse per document, BOS first, as the models were trained (tandem train's tokenization).
  "$T" perplexity -m "$m" -f "$f" --ctx "$CTX" -t "$THREADS" --lines --json "$@"
}
ppl "$SMALL" "$W/domain-valid.txt" >"$W/small-base.json"
ppl "$TUNED" "$W/domain-valid.txt" >"$W/small-tuned.json"
for a in $ALPHAS; do
  ppl "$LARGE" "$W/domain-valid.txt" --proxy-base "$SMALL" --proxy-tuned "$TUNED" --proxy-alpha "$a" >"$W/proxy-$a.json"
done
# Off the domain: what the steering costs elsewhere.
ppl "$LARGE" "$W/offdomain-valid.txt" --chunks "$OFF_CHUNKS" --proxy-base "$SMALL" --proxy-tuned "$TUNED" \
  --proxy-alpha "$OFF_ALPHA" >"$W/offdomain-proxy.json"

f4() { jq -r "$1 | . * 100 | round / 100" "$2"; }
first=$(echo "$ALPHAS" | awk '{print $1}')
{
  echo "# Proxy-tuning house-large on $BOOK"
  echo
  echo "house-small fine-tuned on the $BOOK verses of the training split ($(wc -l <"$W/domain-train.txt") verses,"
  echo "$STEPS steps x $BATCH sequences, lr $LR, ${FT_SECS} s with $THREADS threads); scored on the $BOOK verses of"
  echo "the validation split ($(wc -l <"$W/domain-valid.txt") verses, held-out chapters; one verse per document as in"
  echo "training: \`tandem perplexity --lines\`), chunks of $CTX tokens,"
  echo "$(jq -r .n_scored "$W/proxy-$first.json") tokens scored. Proxy-tuned: large + alpha (small tuned - small base)."
  echo
  echo "| model | $BOOK held-out perplexity |"
  echo "|---|---|"
  echo "| house-small | $(f4 .ppl "$W/small-base.json") |"
  echo "| house-small, fine-tuned on $BOOK | $(f4 .ppl "$W/small-tuned.json") |"
  echo "| house-large alone | $(f4 .alone.ppl "$W/proxy-$first.json") |"
  for a in $ALPHAS; do
    echo "| house-large proxy-tuned, alpha $a | $(f4 .ppl "$W/proxy-$a.json") |"
  done
  echo
  echo "Off the domain (the rest of the validation split, $OFF_CHUNKS chunks): house-large alone"
  echo "$(f4 .alone.ppl "$W/offdomain-proxy.json"), proxy-tuned (alpha $OFF_ALPHA) $(f4 .ppl "$W/offdomain-proxy.json")."
} >"$OUT_TABLE"
cat "$OUT_TABLE"
