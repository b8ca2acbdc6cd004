#include "tandem/collab/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tandem/sampling/log_softmax.h"

namespace tandem {
namespace {

// Where the first stop string starts in `text`, looking only at matches that end
// after `from` (earlier text was already checked); npos when none.
size_t find_stop(const std::string& text, size_t from, const std::vector<std::string>& stop) {
  size_t best = std::string::npos;
  for (const std::string& s : stop) {
    if (s.empty()) continue;
    const size_t start = from >= s.size() ? from - s.size() + 1 : 0;
    const size_t pos = text.find(s, start);
    if (pos != std::string::npos) best = std::min(best, pos);
  }
  return best;
}

}  // namespace

bool is_end_of_generation(const Vocab& v, int32_t id) {
  return id >= 0 && (id == v.eos || id == v.eot);
}

Status check_prompt_fits(const Sequence& seq, int64_t n_prompt, std::string_view what) {
  if (seq.n_past() + n_prompt >= seq.n_ctx())
    return make_error(what, ": the prompt has ", n_prompt, " tokens but the context holds ", seq.n_ctx(), " (",
                      seq.n_past(), " already used); use a larger --ctx or a shorter prompt");
  return ok_status();
}

Result<GenerateResult> generate(Sequence& seq, const std::vector<int32_t>& prompt, const GenerateParams& params,
                                const PieceFn& on_piece) {
  using clock = std::chrono::steady_clock;
  if (prompt.empty()) return make_error("generate: the prompt is empty (no tokens to start from)");
  auto sampler = Sampler::create(params.sampler);
  if (!sampler) return sampler.error();
  const Tokenizer& tok = seq.model().tokenizer();
  GenerateResult out;
  out.n_prompt = static_cast<int64_t>(prompt.size());
  if (auto st = check_prompt_fits(seq, out.n_prompt, "generate"); !st) return st.error();
  for (int32_t t : prompt) sampler->accept(t);

  auto t0 = clock::now();
  auto logits = seq.eval(prompt, Logits::kLast);
  if (!logits) return logits.error();
  auto t1 = clock::now();
  out.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();

  for (int32_t i = 0; i < params.n_predict; ++i) {
    auto next = sampler->sample(*logits);
    if (!next) return next.error();
    if (params.stop_at_eog && is_end_of_generation(tok.vocab(), *next)) {
      out.stopped_at_eog = true;
      break;
    }
    sampler->accept(*next);
    out.tokens.push_back(*next);
    if (params.logprobs) out.logprobs.push_back(static_cast<float>(log_prob(*logits, *next)));
    std::string piece = tok.token_to_piece(*next);
    const size_t before = out.text.size();
    out.text += piece;
    if (!params.stop.empty()) {
      const size_t cut = find_stop(out.text, before, params.stop);
      if (cut != std::string::npos) {
        out.text.resize(cut);
        if (on_piece && cut > before) on_piece(std::string_view(out.text).substr(before));
        out.stopped_at_stop = true;
        break;
      }
    }
    if (on_piece) on_piece(piece);
    if (i + 1 == params.n_predict || seq.n_past() >= seq.n_ctx()) break;
    logits = seq.eval(std::span<const int32_t>(&*next, 1), Logits::kLast);
    if (!logits) return logits.error();
  }
  out.gen_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return out;
}

}  // namespace tandem
