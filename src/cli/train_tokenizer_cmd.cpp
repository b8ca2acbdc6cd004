// `tandem train-tokenizer --input FILE [--vocab-size N] -o OUT.gguf
// [--spm-model OUT.model] [--check FILE]`: trains the house tokenizer
// (sentencepiece BPE with byte fallback, one sentence per input line) and
// writes it as a vocab-only GGUF with a `llama` tokenizer. The file is then
// loaded back with tandem's tokenizer; --check encodes each line of a held-out
// file with both tandem and sentencepiece and reports their agreement.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "tandem/base/mapped_file.h"
#include "tandem/data/line_file.h"
#include "tandem/data/spm_agreement.h"
#include "tandem/data/spm_tokenizer_trainer.h"
#include "tandem/gguf/gguf_file.h"
#include "tandem/tokenizer/tokenizer.h"

namespace tandem::cli {
namespace {

struct TrainTokenizerOptions {
  std::string input;
  std::string out;
  std::string spm_model;
  std::string check;
  std::string name = "house";
  SpmTrainerOptions trainer;
};

int run_train_tokenizer(const TrainTokenizerOptions& o) {
  auto text = read_file(o.input);
  if (!text) return fail(text.error());
  const std::vector<std::string> sentences = split_lines(*text);
  auto proto = train_spm_tokenizer(sentences, o.trainer);
  if (!proto) return fail(make_error(o.input, ": ", proto.error().message));
  if (!o.spm_model.empty()) TANDEM_TRY_CLI(write_file_atomic(o.spm_model, *proto));
  auto gguf = spm_tokenizer_gguf(*proto, o.name);
  if (!gguf) return fail(gguf.error());
  TANDEM_TRY_CLI(gguf->write_file(o.out));

  // Read back what was written, as every later user of the file will.
  auto f = GgufFile::open(o.out);
  if (!f) return fail(f.error());
  auto tok = Tokenizer::from_gguf(*f);
  if (!tok) return fail(tok.error());
  std::printf("wrote %s: llama tokenizer, %d tokens, trained on %zu lines of %s\n", o.out.c_str(), tok->n_vocab(),
              sentences.size(), o.input.c_str());
  if (!o.spm_model.empty()) std::printf("wrote %s: the sentencepiece model\n", o.spm_model.c_str());
  if (o.check.empty()) return 0;

  auto check_text = read_file(o.check);
  if (!check_text) return fail(check_text.error());
  const std::vector<std::string> lines = split_lines(*check_text);
  auto a = compare_with_sentencepiece(*proto, *tok, lines);
  if (!a) return fail(a.error());
  std::printf("check %s: %lld/%lld lines tokenized identically to sentencepiece (%.3f%%), %lld round trips exact\n",
              o.check.c_str(), static_cast<long long>(a->equal), static_cast<long long>(a->lines), 100.0 * a->rate(),
              static_cast<long long>(a->round_trips));
  std::printf("  %lld tokens for %lld bytes: %.4f tokens/byte (%.3f bytes/token)\n", static_cast<long long>(a->tokens),
              static_cast<long long>(a->bytes), a->tokens_per_byte(),
              a->tokens == 0 ? 0.0 : static_cast<double>(a->bytes) / static_cast<double>(a->tokens));
  for (const std::string& m : a->mismatches) std::printf("  mismatch: %s\n", m.c_str());
  if (a->equal != a->lines) return fail(Error{"train-tokenizer: tandem and sentencepiece disagree on " + o.check});
  return 0;
}

}  // namespace

void add_train_tokenizer_command(CLI::App& app, int& rc) {
  auto opts = std::make_shared<TrainTokenizerOptions>();
  auto* cmd = app.add_subcommand("train-tokenizer",
                                 "Train a sentencepiece BPE tokenizer and write it as a GGUF llama tokenizer");
  cmd->add_option("--input", opts->input, "Training text, one sentence per line")->required();
  cmd->add_option("-o,--output", opts->out, "Output GGUF (tokenizer metadata only)")->required();
  cmd->add_option("--vocab-size", opts->trainer.vocab_size, "Vocabulary size, incl. 3 special and 256 byte pieces")
      ->capture_default_str();
  cmd->add_option("--max-piece-length", opts->trainer.max_piece_length, "Longest piece, in characters")
      ->capture_default_str();
  cmd->add_option("--spm-model", opts->spm_model, "Also write the sentencepiece .model file here");
  cmd->add_option("--check", opts->check, "Held-out text: report agreement with sentencepiece and tokens/byte");
  cmd->add_option("--name", opts->name, "general.name in the GGUF")->capture_default_str();
  cmd->add_flag("--verbose", opts->trainer.log, "Show sentencepiece's training log");
  cmd->callback([opts, &rc] { rc = run_train_tokenizer(*opts); });
}

}  // namespace tandem::cli
