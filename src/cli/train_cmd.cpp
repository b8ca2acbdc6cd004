// `tandem train`: trains a llama-style decoder from scratch on a text file of
// one document per line, with the tokenizer of a GGUF file, and exports GGUF.
// Progress on stderr; a loss curve as CSV and SVG at the end; checkpoints that
// a later `--resume` continues exactly. With --init FILE.gguf it starts from
// that model's weights and shape instead (fine-tuning, e.g. a domain slice).
#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "cli/train_flags.h"
#include "tandem/data/token_stream.h"
#include "tandem/gguf/gguf_file.h"
#include "tandem/train/gguf_import.h"
#include "tandem/train/trainer.h"

namespace tandem::cli {
namespace {

struct TrainCmdOptions {
  std::string train_file, valid_file, tokenizer, out, resume, checkpoint, log_prefix;
  std::string init;          // GGUF whose weights (and shape) the run starts from
  bool shape_given = false;  // a shape flag was on the command line (conflicts with --init)
  std::string type = "Q8_0";
  std::string name = "tandem";
  TrainOptions t;
  int64_t eval_every = 200;
  int64_t eval_batches = 16;
  int64_t save_every = 500;
  int64_t print_every = 10;
};

Result<GgmlType> export_type(const std::string& s) {
  auto t = ggml_type_from_name(s);
  if (!t || (*t != GgmlType::F32 && *t != GgmlType::F16 && *t != GgmlType::Q8_0))
    return make_error("--type must be F32, F16 or Q8_0, got '", s, "'");
  return *t;
}

int run_train(TrainCmdOptions o) {
  auto type = export_type(o.type);
  if (!type) return fail(type.error());
  auto tf = GgufFile::open(o.tokenizer);
  if (!tf) return fail(tf.error());
  auto tok = Tokenizer::from_gguf(*tf);
  if (!tok) return fail(tok.error());
  auto train_ids = tokenize_line_file(*tok, o.train_file);
  if (!train_ids) return fail(train_ids.error());
  InMemoryTokens train(std::move(*train_ids));
  std::unique_ptr<InMemoryTokens> valid;
  if (!o.valid_file.empty()) {
    auto v = tokenize_line_file(*tok, o.valid_file);
    if (!v) return fail(v.error());
    valid = std::make_unique<InMemoryTokens>(std::move(*v));
  }
  std::fprintf(stderr, "train: %lld tokens%s\n", static_cast<long long>(train.size()),
               valid ? (", validation: " + std::to_string(valid->size()) + " tokens").c_str() : "");

  std::vector<float> initial;
  if (!o.init.empty()) {
    if (!o.resume.empty()) return fail(make_error("--init and --resume exclude each other (a checkpoint has its weights)"));
    if (o.shape_given)
      return fail(make_error("--init takes the model's shape from ", o.init,
                             "; drop the shape flags (--dim, --layers, --heads, --kv-heads, --ffn, --vocab, --ctx, --tied)"));
    auto im = import_gguf(o.init);
    if (!im) return fail(im.error());
    o.t.model = im->config;
    initial = std::move(im->params);
    std::fprintf(stderr, "init: weights of %s (%s)\n", o.init.c_str(), im->name.c_str());
  }
  Result<std::unique_ptr<Trainer>> tr =
      o.resume.empty() ? Trainer::create(o.t, train, initial) : Trainer::resume(o.resume, train);
  if (!tr) return fail(tr.error());
  Trainer& trainer = **tr;
  const TrainOptions& to = trainer.options();
  if (to.model.vocab != tok->n_vocab())
    return fail(make_error("the model's vocabulary (", to.model.vocab, ") differs from the tokenizer's (", tok->n_vocab(), ")"));
  std::fprintf(stderr, "model: %lld parameters; %lld tokens per step, %lld steps\n",
               static_cast<long long>(to.model.n_params()), static_cast<long long>(to.tokens_per_step()),
               static_cast<long long>(to.schedule.total_steps));

  auto validate = [&](int64_t step) -> Status {
    if (!valid) return ok_status();
    auto l = trainer.evaluate(*valid, o.eval_batches);
    if (!l) return l.error();
    TANDEM_TRY(trainer.log().set_val_loss(step, *l));
    std::fprintf(stderr, "\nstep %lld: validation loss %.4f, perplexity %.2f\n", static_cast<long long>(step), *l,
                 std::exp(*l));
    return ok_status();
  };
  auto st = trainer.run(to.schedule.total_steps, [&](const TrainLogPoint& p) -> Status {
    if (p.step % o.print_every == 0 || p.step == to.schedule.total_steps)
      std::fprintf(stderr, "\r%s   ", trainer.progress_line(p).c_str());
    if (o.eval_every > 0 && p.step % o.eval_every == 0 && p.step != to.schedule.total_steps) TANDEM_TRY(validate(p.step));
    if (!o.checkpoint.empty() && o.save_every > 0 && p.step % o.save_every == 0)
      TANDEM_TRY(trainer.save_checkpoint(o.checkpoint));
    return ok_status();
  });
  if (!st) return fail(st.error());
  TANDEM_TRY_CLI(validate(trainer.steps_done()));
  if (!o.checkpoint.empty()) TANDEM_TRY_CLI(trainer.save_checkpoint(o.checkpoint));
  if (!o.out.empty()) {
    ExportOptions ex{.type = *type, .name = o.name, .tokenizer = tokenizer_metadata(*tf)};
    TANDEM_TRY_CLI(trainer.export_gguf(o.out, ex));
    std::fprintf(stderr, "wrote %s\n", o.out.c_str());
  }
  if (!o.log_prefix.empty()) {
    TANDEM_TRY_CLI(trainer.log().write_csv(o.log_prefix + ".csv"));
    TANDEM_TRY_CLI(trainer.log().write_svg(o.log_prefix + ".svg", o.name + " training loss"));
    std::fprintf(stderr, "wrote %s.csv and %s.svg\n", o.log_prefix.c_str(), o.log_prefix.c_str());
  }
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<TrainCmdOptions>();
  auto* cmd = app.add_subcommand("train", "Train a llama-style decoder on a text file (from scratch, or from --init FILE.gguf)");
  cmd->add_option("--train", o->train_file, "Training text, one document per line")->required();
  cmd->add_option("--valid", o->valid_file, "Validation text, one document per line");
  cmd->add_option("--tokenizer", o->tokenizer, "GGUF whose tokenizer is used and copied into the output")->required();
  cmd->add_option("-o,--output", o->out, "Output GGUF");
  cmd->add_option("--type", o->type, "Output weight type: F32, F16 or Q8_0")->capture_default_str();
  cmd->add_option("--name", o->name, "general.name of the output")->capture_default_str();
  DecoderConfig& m = o->t.model;
  add_shape_flags(cmd, m);
  cmd->add_option("--vocab", m.vocab, "Vocabulary size (must equal the tokenizer's)")->capture_default_str();
  cmd->add_option("--seq-len", o->t.seq_len, "Tokens per training sequence (0: --ctx, or the --init model's)")
      ->capture_default_str();
  add_optimizer_flags(cmd, o->t);
  cmd->add_option("--seed", o->t.seed, "Seed for weights and data order")->capture_default_str();
  cmd->add_option("--eval-every", o->eval_every, "Validate every N steps (0: only at the end)")->capture_default_str();
  cmd->add_option("--eval-batches", o->eval_batches, "Validation batches (0: all)")->capture_default_str();
  cmd->add_option("--checkpoint", o->checkpoint, "Checkpoint file, saved every --save-every steps and at the end");
  cmd->add_option("--save-every", o->save_every, "Steps between checkpoints")->capture_default_str();
  cmd->add_option("--resume", o->resume, "Continue the run saved in this checkpoint");
  cmd->add_option("--init", o->init, "Start from this GGUF's weights and shape (fine-tuning)");
  cmd->add_option("--log", o->log_prefix, "Write the loss curve to PREFIX.csv and PREFIX.svg");
  cmd->add_option("--print-every", o->print_every, "Steps between progress lines")->capture_default_str();
  cmd->callback([o, cmd, &rc] {
    for (const char* f : {"--dim", "--layers", "--heads", "--kv-heads", "--ffn", "--vocab", "--ctx", "--tied"})
      o->shape_given = o->shape_given || cmd->count(f) > 0;
    rc = run_train(*o);
  });
}

}  // namespace tandem::cli
