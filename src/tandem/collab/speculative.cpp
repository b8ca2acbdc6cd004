// The speculative decoding loop: draft, verify in one batch, keep the accepted
// prefix and one target token, roll the target's cache back.
#include "tandem/collab/speculative.h"

#include <algorithm>
#include <chrono>

#include "tandem/collab/speculative_rule.h"

namespace tandem {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

Result<SpeculativeResult> generate_speculative(Sequence& target, DraftSource& draft, const std::vector<int32_t>& prompt,
                                               const SpeculativeParams& params, const PieceFn& on_piece) {
  if (prompt.empty()) return make_error("speculative: the prompt is empty (no tokens to start from)");
  auto sampler = Sampler::create(params.sampler);
  if (!sampler) return sampler.error();
  const int32_t n_src = draft.n_sources();
  if (!params.draft_by_source.empty() && static_cast<int32_t>(params.draft_by_source.size()) != n_src)
    return make_error("speculative: ", params.draft_by_source.size(), " draft-length settings for ", n_src,
                      " draft sources");
  std::vector<DraftLength> lengths;  // one per source of the chain
  for (int32_t i = 0; i < n_src; ++i) {
    auto l = DraftLength::create(params.draft_by_source.empty() ? params.draft
                                                                : params.draft_by_source[static_cast<size_t>(i)]);
    if (!l) return l.error();
    lengths.push_back(*l);
  }
  std::vector<int32_t> caps(static_cast<size_t>(n_src));
  const Tokenizer& tok = target.model().tokenizer();
  const int64_t n_vocab = target.model().config().n_vocab;
  const int64_t n_ctx = target.n_ctx();
  const int64_t base = target.n_past();  // what the target held before the prompt

  SpeculativeResult res;
  GenerateResult& out = res.gen;
  SpeculativeStats& st = res.stats;
  out.n_prompt = static_cast<int64_t>(prompt.size());
  if (auto ok = check_prompt_fits(target, out.n_prompt, "speculative"); !ok) return ok.error();
  for (int32_t t : prompt) sampler->accept(t);

  // Prefill all but the last prompt token: the first round verifies drafts
  // after it in the same batch, so the first token is speculated too.
  auto t0 = Clock::now();
  if (prompt.size() > 1) {
    auto r = target.eval(std::span<const int32_t>(prompt).first(prompt.size() - 1), Logits::kLast);
    if (!r) return r.error();
  }
  TANDEM_TRY(draft.begin(prompt));
  out.prompt_seconds = seconds_since(t0);

  std::vector<int32_t> context = prompt;  // prompt + accepted tokens
  std::vector<int32_t> batch;
  std::vector<float> p, residual;
  Draft d;
  const bool greedy = sampler->greedy();
  bool stop = false;
  // Appends an accepted or target-chosen token; false when generation ends.
  auto emit = [&](int32_t t) {
    if (params.stop_at_eog && is_end_of_generation(tok.vocab(), t)) {
      out.stopped_at_eog = true;
      return false;
    }
    sampler->accept(t);
    context.push_back(t);
    out.tokens.push_back(t);
    std::string piece = tok.token_to_piece(t);
    out.text += piece;
    if (on_piece) on_piece(piece);
    return static_cast<int64_t>(out.tokens.size()) < params.n_predict;
  };

  auto t1 = Clock::now();
  while (!stop && static_cast<int64_t>(out.tokens.size()) < params.n_predict) {
    // The context tokens the target has not evaluated: the pending token (the
    // whole tail if a caller's sequence was behind).
    const int64_t n_past = target.n_past();
    const auto pending = std::span<const int32_t>(context).subspan(static_cast<size_t>(n_past - base));
    const auto n_pend = static_cast<int64_t>(pending.size());
    if (n_past + n_pend > n_ctx) break;  // context full, as plain generation stops
    const int64_t remaining = params.n_predict - static_cast<int64_t>(out.tokens.size());
    // A round yields at most K + 1 tokens and needs K + n_pend context slots.
    const int64_t room = std::min<int64_t>(remaining - 1, n_ctx - n_past - n_pend);
    int64_t k = 0;
    for (int32_t i = 0; i < n_src; ++i) {
      const size_t u = static_cast<size_t>(i);
      caps[u] = static_cast<int32_t>(std::max<int64_t>(0, std::min<int64_t>(lengths[u].next(), room)));
      k = std::max<int64_t>(k, caps[u]);
    }

    d.clear();
    double draft_s = 0;
    if (k > 0) {
      auto td = Clock::now();
      TANDEM_TRY(draft.propose(
          {.context = context, .max_tokens = static_cast<int32_t>(k), .max_by_source = caps, .want_probs = !greedy}, d));
      draft_s = seconds_since(td);
      st.draft_seconds += draft_s;
      if (d.source < 0 || d.source >= n_src)
        return make_error("speculative: the draft came from source ", d.source, " of ", n_src);
      if (static_cast<int64_t>(d.tokens.size()) > caps[static_cast<size_t>(d.source)])
        return make_error("speculative: the draft source proposed ", d.tokens.size(), " tokens, more than the ",
                          caps[static_cast<size_t>(d.source)], " asked for");
      for (int32_t x : d.tokens)
        if (x < 0 || x >= n_vocab)
          return make_error("speculative: the draft proposed token ", x, ", outside the target's vocabulary (0..",
                            n_vocab - 1, ")");
    }
    const auto n_draft = static_cast<int64_t>(d.tokens.size());

    auto tv = Clock::now();
    batch.assign(pending.begin(), pending.end());
    batch.insert(batch.end(), d.tokens.begin(), d.tokens.end());
    auto logits = target.eval(batch, n_draft > 0 ? Logits::kAll : Logits::kLast);
    if (!logits) return logits.error();
    const double verify_s = seconds_since(tv);
    // Row i (0..n_draft) predicts the token after pending + d1..di.
    const size_t first_row = n_draft > 0 ? static_cast<size_t>(n_pend - 1) : 0;
    auto row = [&](int64_t i) {
      return logits->subspan((first_row + static_cast<size_t>(i)) * static_cast<size_t>(n_vocab),
                             static_cast<size_t>(n_vocab));
    };

    int64_t n_acc = 0;
    bool rejected = false;
    for (; n_acc < n_draft && !stop; ++n_acc) {
      const int32_t x = d.tokens[static_cast<size_t>(n_acc)];
      VerifyOutcome v;
      if (greedy) {
        // p is one-hot at the target's argmax: keep x iff it is that argmax.
        auto y = sampler->sample(row(n_acc));
        if (!y) return y.error();
        v = {.accepted = *y == x, .token = *y};
      } else {
        TANDEM_TRY(sampler->distribution(row(n_acc), p));
        auto r = verify_draft_token(p, d.q(static_cast<size_t>(n_acc)), x, sampler->rng(), residual);
        if (!r) return r.error();
        v = *r;
      }
      if (!v.accepted) {
        rejected = true;
        stop = !emit(v.token);
        break;
      }
      stop = !emit(x);
    }
    if (!rejected && !stop) {
      // Every draft kept: the last row is a free token from the target.
      auto y = sampler->sample(row(n_draft));
      if (!y) return y.error();
      stop = !emit(*y);
    }
    // Keep pending + the accepted drafts; the round's last token is pending now.
    TANDEM_TRY(target.rollback(n_past + n_pend + n_acc));
    st.verify_seconds += seconds_since(tv);

    ++st.rounds;
    if (n_draft > 0) {
      ++st.draft_rounds;
      st.drafted += n_draft;
      st.accepted += n_acc;
      if (st.accepted_hist.size() <= static_cast<size_t>(n_acc)) st.accepted_hist.resize(static_cast<size_t>(n_acc) + 1);
      ++st.accepted_hist[static_cast<size_t>(n_acc)];
    }
    // The drafting source learns from its round; a plain round (no draft)
    // times the one-token pass every source's K = 0 would cost. The first
    // round runs cold (the draft's prefill has just evicted the target), so
    // its times are left out.
    for (int32_t i = 0; i < n_src; ++i) {
      if (n_draft > 0 && i != d.source) continue;
      DraftLength& len = lengths[static_cast<size_t>(i)];
      if (st.rounds > 1)
        len.observe(static_cast<int32_t>(n_draft), draft_s, static_cast<int64_t>(batch.size()), verify_s);
      len.update(static_cast<int32_t>(n_draft), static_cast<int32_t>(n_acc));
    }
  }
  out.gen_seconds = seconds_since(t1);
  return res;
}

}  // namespace tandem
