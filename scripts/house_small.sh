#!/usr/bin/env bash
# Stage "small" of scripts/house_models.sh (issue 4, Distillation): distils
# house-large (the LLM role) into students of house-small's size, measures them
# and ships the best distilled one as models/house-small.gguf.
#   scripts/house_small.sh BUILD_DIR
# Students (same shape, same seed, same optimizer and schedule, and exactly the
# same number of training tokens, STEPS x BATCH x CTX):
#   (a) corpus only        `tandem train` on data/kjv/train.txt
#   (b) black-box          the teacher continues the opening words of corpus
#                          lines (pure sampling, temperature 1); the student
#                          trains on prompt + continuation with cross-entropy
#   (c) white-box          on the corpus against the teacher's next-token
#                          distributions, forward KL, reverse KL and top-k KL,
#                          each mixed with the hard-label CE at weight ALPHA
#   (d) longer             the forward-KL student trained on for LONG_STEPS more
#                          steps (forward KL, alpha 0.1): not an equal-budget
#                          comparison, the draft model house-small ships as
# Then `tandem distill-eval` scores all of them on data/kjv/valid.txt (same
# tokenization as training): perplexity, greedy next-token agreement with the
# teacher, KL(teacher || student). Writes models/logs/distill-table.md and
# models/house-small.gguf (the distilled student, (b) or (c), with the lowest
# validation perplexity). Intermediate files go to DISTILL_WORK (default
# BUILD_DIR/distill); the teacher's data set there is resumed if interrupted.
set -euo pipefail
BUILD=${1:-build}
T=$BUILD/tandem
W=${DISTILL_WORK:-$BUILD/distill}
TEACHER=${TEACHER:-models/house-large.gguf}
TRAIN_TXT=${TRAIN_TXT:-data/kjv/train.txt}
VALID_TXT=${VALID_TXT:-data/kjv/valid.txt}
THREADS=${THREADS:-2}
OUT_MODEL=${OUT_MODEL:-models/house-small.gguf}
OUT_TABLE=${OUT_TABLE:-models/logs/distill-table.md}
EVAL_WINDOWS=${EVAL_WINDOWS:-0}  # 0: the whole validation split

# house-small: dim 128, 4 layers, 4 query / 2 KV heads, SwiGLU 384, tied head,
# vocabulary 4096, context 256: 1.31M parameters, a tenth of house-large's 12.6M.
SHAPE="--dim 128 --layers 4 --heads 4 --kv-heads 2 --ffn 384 --ctx 256 --tied"
BATCH=${BATCH:-4}
STEPS=${STEPS:-400}
CTX=256
TOKENS=$((STEPS * BATCH * CTX))
OPT="--batch $BATCH --steps $STEPS --lr 3e-3 --min-lr 3e-4 --warmup 30 --weight-decay 0.1 --clip 1 --seed 7"
RUN="-t $THREADS --eval-every 0 --eval-batches 0 --print-every 20 --type Q8_0"
ALPHA=${ALPHA:-0.2}   # weight of the hard-label CE in the white-box losses
TOPK=${TOPK:-32}
PROMPTS=${PROMPTS:-6000}  # corpus lines whose first words the teacher continues (of ~29,000)
GEN="--prompts $PROMPTS --prompt-words 3 -n 128 --temp 1 --top-k 0 --top-p 1 --min-p 0"

for f in "$T" "$TEACHER" "$TRAIN_TXT" "$VALID_TXT"; do
  [ -e "$f" ] || { echo "house_small.sh: $f is missing (run the earlier stages of scripts/house_models.sh)" >&2; exit 1; }
done
mkdir -p "$W" "$(dirname "$OUT_MODEL")" "$(dirname "$OUT_TABLE")"

declare -A SECS
timed() {  # timed KEY command...: runs the command, records its wall time
  local key=$1 t0=$SECONDS
  shift
  echo "== $key: $*" >&2
  "$@"
  SECS[$key]=$((SECONDS - t0))
}

timed corpus "$T" train --tokenizer "$TEACHER" --train "$TRAIN_TXT" --valid "$VALID_TXT" $SHAPE $OPT $RUN \
  --name house-small-corpus -o "$W/corpus.gguf" --log "$W/corpus"
timed blackbox "$T" distill --mode blackbox --teacher "$TEACHER" --train "$TRAIN_TXT" --valid "$VALID_TXT" \
  $SHAPE $OPT $RUN $GEN --data-out "$W/teacher-data.jsonl" \
  --name house-small-blackbox -o "$W/blackbox.gguf" --report "$W/blackbox.json" --log "$W/blackbox"
for mode in forward-kl reverse-kl topk; do
  timed "$mode" "$T" distill --mode "$mode" --teacher "$TEACHER" --train "$TRAIN_TXT" --valid "$VALID_TXT" \
    $SHAPE $OPT $RUN --alpha "$ALPHA" --kd-temp 1 --topk "$TOPK" \
    --name "house-small-$mode" -o "$W/$mode.gguf" --report "$W/$mode.json" --log "$W/$mode"
done

LONG_STEPS=${LONG_STEPS:-5000}
LONG_TOKENS=$((LONG_STEPS * BATCH * CTX))
timed longer "$T" distill --mode forward-kl --teacher "$TEACHER" --student "$W/forward-kl.gguf" \
  --train "$TRAIN_TXT" --valid "$VALID_TXT" --batch "$BATCH" --steps "$LONG_STEPS" --lr 2e-3 --min-lr 1e-4 \
  --warmup 50 --weight-decay 0.1 --clip 1 --seed 11 $RUN --alpha 0.1 --kd-temp 1 \
  --name house-small -o "$W/longer.gguf" --report "$W/longer.json" --log "$W/longer"

# Equal training tokens: every distill report must say STEPS x BATCH x CTX
# (`tandem train` trains the same steps of the same batch by construction).
for r in blackbox forward-kl reverse-kl topk; do
  got=$(sed -n 's/.*"tokens_trained": \([0-9]*\).*/\1/p' "$W/$r.json")
  [ "$got" = "$TOKENS" ] || { echo "house_small.sh: $r trained on $got tokens, expected $TOKENS" >&2; exit 1; }
done
gen_records=$(wc -l < "$W/teacher-data.jsonl")
gen_tokens=$(sed -n 's/.*"train_tokens_available": \([0-9]*\).*/\1/p' "$W/blackbox.json")

declare -A LABEL=(
  [corpus]="(a) corpus only"
  [blackbox]="(b) black-box (teacher-generated text, CE)"
  [forward-kl]="(c) white-box forward KL"
  [reverse-kl]="(c) white-box reverse KL"
  [topk]="(c) white-box top-$TOPK KL"
  [longer]="(d) forward KL + $LONG_TOKENS more tokens"
)
ORDER="corpus blackbox forward-kl reverse-kl topk longer"
args=()
for k in $ORDER; do args+=("${LABEL[$k]}=$W/$k.gguf"); done
t0=$SECONDS
"$T" distill-eval --teacher "$TEACHER" --valid "$VALID_TXT" --ctx $CTX --max-windows "$EVAL_WINDOWS" -t "$THREADS" \
  "${args[@]}" > "$W/eval.md"
eval_secs=$((SECONDS - t0))

# The shipped house-small: the distilled student ((b) or (c)) with the lowest validation perplexity.
best=""
best_ppl=""
for k in blackbox forward-kl reverse-kl topk longer; do
  ppl=$(awk -F'|' -v l="${LABEL[$k]}" '{ g = $2; gsub(/^ +| +$/, "", g); if (g == l) { gsub(/ /, "", $3); print $3 } }' "$W/eval.md")
  if [ -z "$best" ] || awk -v a="$ppl" -v b="$best_ppl" 'BEGIN { exit !(a + 0 < b + 0) }'; then
    best=$k
    best_ppl=$ppl
  fi
done
cp "$W/$best.gguf" "$OUT_MODEL"

{
  echo "# Distillation table: house-large -> house-small"
  echo
  echo "Teacher: \`$TEACHER\` (house-large, 12.6M parameters, Q8_0). Every student: dim 128, 4 layers,"
  echo "4/2 heads, SwiGLU 384, tied head, vocabulary 4096, context 256 (1.31M parameters), seed 7, AdamW"
  echo "lr 3e-3 -> 3e-4 (cosine, 30 warmup steps), weight decay 0.1, clip 1, $STEPS steps of $BATCH x $CTX tokens:"
  echo "**$TOKENS training tokens for every student**; exported as Q8_0 and scored as shipped."
  echo "White-box losses: (1 - $ALPHA) x divergence + $ALPHA x hard-label CE, temperature 1, teacher logits"
  echo "from the engine on the fly; top-k keeps the teacher's $TOPK most likely tokens, renormalized."
  echo "(d) continues the forward-KL student for $LONG_STEPS more steps ($LONG_TOKENS tokens; lr 2e-3 -> 1e-4,"
  echo "50 warmup steps, alpha 0.1): the longer training a draft model gets, outside the equal-budget comparison."
  echo "Black-box data: the teacher continued the first 3 words of $PROMPTS evenly spaced training lines"
  echo "(temperature 1, no truncation, up to 128 tokens, stopping at the newline): $gen_records records,"
  echo "$gen_tokens tokens as training text (the corpus: $(sed -n 's/.*"train_tokens_available": \([0-9]*\).*/\1/p' "$W/forward-kl.json") tokens)."
  echo
  echo "Validation: \`$VALID_TXT\`, each line BOS + text + newline as in training, cut into windows of $CTX"
  echo "tokens each scored from an empty context; agreement = fraction of positions where the student's"
  echo "argmax equals the teacher's."
  echo
  cat "$W/eval.md"
  echo
  echo "| student | training wall time (s, $THREADS threads) |"
  echo "| --- | ---: |"
  for k in $ORDER; do
    extra=""
    [ "$k" = blackbox ] && extra=" (incl. the teacher's generation: $(sed -n 's/.*"seconds": \([0-9.]*\).*/\1/p' "$W/blackbox.json" | head -1 | cut -d. -f1) s)"
    echo "| ${LABEL[$k]} | ${SECS[$k]}$extra |"
  done
  echo
  echo "Evaluation: ${eval_secs} s. Shipped as \`$OUT_MODEL\`: ${LABEL[$best]} (validation perplexity $best_ppl)."
  echo
  echo "Reproduce: \`bash scripts/house_small.sh $BUILD\` (or \`make house-models\` for every stage)."
} > "$OUT_TABLE"
cat "$OUT_TABLE"
