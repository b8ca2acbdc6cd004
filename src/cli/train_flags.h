// Command-line flags shared by the commands that train a decoder (`train`,
// `distill`): the model's shape and the optimizer/schedule settings, so both
// spell and document them the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <vector>

#include "tandem/train/train_options.h"

namespace tandem::cli {

// --dim --layers --heads --kv-heads --ffn --ctx --tied; returns the options so a
// caller can tell whether any was given.
std::vector<CLI::Option*> add_shape_flags(CLI::App* cmd, DecoderConfig& m);
// --batch --accum --steps --lr --min-lr --warmup --weight-decay --clip -t.
void add_optimizer_flags(CLI::App* cmd, TrainOptions& t);

}  // namespace tandem::cli
