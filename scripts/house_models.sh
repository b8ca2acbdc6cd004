#!/usr/bin/env bash
# make house-models: reproduces the house models from scratch (issue 4):
# corpus -> house tokenizer -> house-large (the LLM role) -> house-small (the SM
# role, distilled from house-large). Writes models/ and models/logs/.
#   scripts/house_models.sh BUILD_DIR [stage ...]   stages: corpus tokenizer large small (default: all)
set -euo pipefail
BUILD=${1:-build}
shift || true
STAGES=${*:-corpus tokenizer large small}
T=$BUILD/tandem
mkdir -p models/logs data

for s in $STAGES; do
  case $s in
    corpus)
      "$T" corpus kjv -o data/kjv ;;
    tokenizer)
      "$T" train-tokenizer --input data/kjv/train.txt --vocab-size 4096 -o models/house-tokenizer.gguf \
        --spm-model models/house-tokenizer.model --check data/kjv/valid.txt ;;
    large)
      # 12.6M parameters (dim 384, 6 layers, 6/2 heads, ffn 1024, vocab 4096): about 30 minutes on 2 cores.
      "$T" train --train data/kjv/train.txt --valid data/kjv/valid.txt --tokenizer models/house-tokenizer.gguf \
        --dim 384 --layers 6 --heads 6 --kv-heads 2 --ffn 1024 --ctx 256 --batch 8 --steps 1000 \
        --lr 1e-3 --min-lr 1e-4 --warmup 50 --weight-decay 0.1 --seed 1 -t 2 \
        --eval-every 250 --eval-batches 0 --checkpoint data/house-large.ckpt --save-every 100 \
        --name house-large --type Q8_0 -o models/house-large.gguf --log models/logs/house-large ;;
    small)
      bash scripts/house_small.sh "$BUILD" ;;
    *) echo "unknown stage $s" >&2; exit 2 ;;
  esac
done
