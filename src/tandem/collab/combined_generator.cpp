// The lockstep loop of combined_generator.h: the same shape as generate() in
// generator.cpp, with N sequences fed the same tokens and one combined row.
#include "tandem/collab/combined_generator.h"

#include <algorithm>
#include <chrono>

namespace tandem {
namespace {

// Ties to the lowest id, as the greedy sampler breaks them.
size_t argmax(std::span<const float> row) {
  size_t best = 0;
  for (size_t i = 1; i < row.size(); ++i)
    if (row[i] > row[best]) best = i;
  return best;
}

// Feeds the same tokens to every sequence; rows[i] gets sequence i's last-token logits.
Status eval_all(std::span<Sequence* const> seqs, std::span<const int32_t> tokens,
                std::vector<std::span<const float>>& rows) {
  for (size_t i = 0; i < seqs.size(); ++i) {
    auto l = seqs[i]->eval(tokens, Logits::kLast);
    if (!l) return make_error("model ", i, " (", seqs[i]->model().file().path(), "): ", l.error().message);
    rows[i] = *l;
  }
  return ok_status();
}

}  // namespace

Result<CombinedResult> generate_combined(std::span<Sequence* const> seqs, const LogitCombiner& combiner,
                                         const std::vector<int32_t>& prompt, const GenerateParams& params,
                                         const PieceFn& on_piece) {
  using clock = std::chrono::steady_clock;
  if (seqs.empty() || seqs.size() != combiner.n_models)
    return make_error(combiner.name, ": expects ", combiner.n_models, " models, got ", seqs.size());
  if (prompt.empty()) return make_error(combiner.name, ": the prompt is empty (no tokens to start from)");
  int64_t room = seqs[0]->n_ctx() - seqs[0]->n_past();
  for (Sequence* s : seqs) {
    if (s->n_past() != seqs[0]->n_past())
      return make_error(combiner.name, ": the sequences hold ", seqs[0]->n_past(), " and ", s->n_past(),
                        " tokens (they must start at the same position)");
    room = std::min(room, s->n_ctx() - s->n_past());
  }
  if (static_cast<int64_t>(prompt.size()) >= room)
    return make_error(combiner.name, ": the prompt has ", prompt.size(), " tokens but the smallest context has room for ",
                      room, "; use a larger --ctx or a shorter prompt");
  auto sampler = Sampler::create(params.sampler);
  if (!sampler) return sampler.error();
  const Tokenizer& tok = seqs[0]->model().tokenizer();
  for (int32_t t : prompt) sampler->accept(t);

  CombinedResult out;
  GenerateResult& g = out.gen;
  g.n_prompt = static_cast<int64_t>(prompt.size());
  std::vector<std::span<const float>> rows(seqs.size());
  std::vector<float> combined;
  auto t0 = clock::now();
  TANDEM_TRY(eval_all(seqs, prompt, rows));
  auto t1 = clock::now();
  g.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();

  for (int32_t i = 0; i < params.n_predict; ++i) {
    auto c0 = clock::now();
    combined.resize(rows[0].size());
    TANDEM_TRY(combiner.combine(rows, combined));
    out.stats.combine_seconds += std::chrono::duration<double>(clock::now() - c0).count();
    ++out.stats.steps;
    if (argmax(combined) != argmax(rows[0])) ++out.stats.changed_argmax;
    auto next = sampler->sample(combined);
    if (!next) return next.error();
    if (params.stop_at_eog && is_end_of_generation(tok.vocab(), *next)) {
      g.stopped_at_eog = true;
      break;
    }
    sampler->accept(*next);
    g.tokens.push_back(*next);
    std::string piece = tok.token_to_piece(*next);
    g.text += piece;
    if (on_piece) on_piece(piece);
    if (i + 1 == params.n_predict) break;
    bool full = false;
    for (Sequence* s : seqs) full = full || s->n_past() >= s->n_ctx();
    if (full) break;
    TANDEM_TRY(eval_all(seqs, std::span<const int32_t>(&*next, 1), rows));
  }
  g.gen_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return out;
}

}  // namespace tandem
