#include "cli/train_flags.h"

namespace tandem::cli {

std::vector<CLI::Option*> add_shape_flags(CLI::App* cmd, DecoderConfig& m) {
  return {cmd->add_option("--dim", m.dim, "Embedding size")->capture_default_str(),
          cmd->add_option("--layers", m.n_layers, "Layers")->capture_default_str(),
          cmd->add_option("--heads", m.n_heads, "Attention heads")->capture_default_str(),
          cmd->add_option("--kv-heads", m.n_kv_heads, "Key/value heads")->capture_default_str(),
          cmd->add_option("--ffn", m.ffn, "Feed-forward size")->capture_default_str(),
          cmd->add_option("--ctx", m.ctx, "Training sequence length")->capture_default_str(),
          cmd->add_flag("--tied", m.tied, "Tie the output head to the token embedding")};
}

void add_optimizer_flags(CLI::App* cmd, TrainOptions& t) {
  cmd->add_option("--batch", t.batch_size, "Sequences per micro-batch")->capture_default_str();
  cmd->add_option("--accum", t.grad_accum, "Micro-batches per step")->capture_default_str();
  cmd->add_option("--steps", t.schedule.total_steps, "Optimizer steps")->capture_default_str();
  cmd->add_option("--lr", t.schedule.peak, "Peak learning rate")->capture_default_str();
  cmd->add_option("--min-lr", t.schedule.floor, "Final learning rate of the cosine decay")->capture_default_str();
  cmd->add_option("--warmup", t.schedule.warmup_steps, "Warmup steps")->capture_default_str();
  cmd->add_option("--weight-decay", t.adamw.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--clip", t.grad_clip, "Gradient clipping norm (0: off)")->capture_default_str();
  cmd->add_option("-t,--threads", t.threads, "Threads (default: the cores present)");
}

}  // namespace tandem::cli
