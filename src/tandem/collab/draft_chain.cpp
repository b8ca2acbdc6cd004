// First proposing source wins.
#include "tandem/collab/draft_chain.h"

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
  for (size_t i = 0; i < sources_.size(); ++i) {
    TANDEM_TRY(sources_[i]->propose(req, out));
    if (!out.tokens.empty()) {
      ++rounds_[i];
      return ok_status();
    }
  }
  return ok_status();
}

}  // namespace tandem
