// First proposing source wins.
#include "tandem/collab/draft_chain.h"

#include <algorithm>

namespace tandem {

Result<std::unique_ptr<DraftChain>> DraftChain::create(std::vector<std::unique_ptr<DraftSource>> sources) {
  if (sources.empty()) return make_error("draft chain: no draft sources");
  for (size_t i = 0; i < sources.size(); ++i)
    if (!sources[i]) return make_error("draft chain: source ", i, " is missing");
  return std::unique_ptr<DraftChain>(new DraftChain(std::move(sources)));
}

DraftChain::DraftChain(std::vector<std::unique_ptr<DraftSource>> sources)
    : sources_(std::move(sources)), rounds_(sources_.size(), 0) {}

Status DraftChain::begin(std::span<const int32_t> prompt) {
  for (auto& s : sources_) TANDEM_TRY(s->begin(prompt));
  return ok_status();
}

Status DraftChain::propose(const DraftRequest& req, Draft& out) {
  out.clear();
  if (!req.max_by_source.empty() && req.max_by_source.size() != sources_.size())
    return make_error("draft chain: ", req.max_by_source.size(), " draft lengths for ", sources_.size(), " sources");
  DraftRequest one = req;
  one.max_by_source = {};
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (!req.max_by_source.empty()) one.max_tokens = std::min(req.max_tokens, req.max_by_source[i]);
    if (one.max_tokens <= 0) continue;
    TANDEM_TRY(sources_[i]->propose(one, out));
    if (!out.tokens.empty()) {
      ++rounds_[i];
      out.source = static_cast<int32_t>(i);
      return ok_status();
    }
  }
  return ok_status();
}

}  // namespace tandem
