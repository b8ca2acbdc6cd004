// The vocabulary compatibility check: tokenizer model, special tokens, sizes,
// then token texts over the common id range.
#include "tandem/collab/vocab_compat.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace tandem {
namespace {

std::string_view model_name(TokenizerModel m) {
  switch (m) {
    case TokenizerModel::kSpm: return "llama (SentencePiece)";
    case TokenizerModel::kBpe: return "gpt2 (byte-level BPE)";
    case TokenizerModel::kWordPiece: return "bert (WordPiece)";
  }
  return "unknown";
}

// A token text made printable for an error line: control bytes and quotes
// escaped, long texts cut, so the message stays on one line.
std::string printable(const std::string& s) {
  std::string out;
  for (char ch : s.substr(0, 48)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  if (s.size() > 48) out += "...";
  return "'" + out + "'";
}

}  // namespace

Status check_vocab_compatible(const Vocab& target, const Vocab& draft, const VocabCompatParams& params) {
  if (target.model != draft.model)
    return make_error("tokenizer models differ: target ", model_name(target.model), " vs draft ", model_name(draft.model));
  struct Special {
    const char* name;
    int32_t Vocab::*id;
  };
  for (Special s : {Special{"BOS", &Vocab::bos}, Special{"EOS", &Vocab::eos}, Special{"EOT", &Vocab::eot},
                    Special{"EOM", &Vocab::eom}}) {
    if (target.*s.id != draft.*s.id)
      return make_error(s.name, " token ids differ: target ", target.*s.id, " vs draft ", draft.*s.id,
                        " (-1: none)");
  }
  if (target.add_bos != draft.add_bos)
    return make_error("add-BOS flags differ: target ", target.add_bos, " vs draft ", draft.add_bos);
  if (target.add_eos != draft.add_eos)
    return make_error("add-EOS flags differ: target ", target.add_eos, " vs draft ", draft.add_eos);
  const int32_t n_t = target.size(), n_d = draft.size();
  if (std::abs(n_t - n_d) > params.max_size_difference)
    return make_error("vocabulary sizes differ by ", std::abs(n_t - n_d), ": target ", n_t, " vs draft ", n_d,
                      " tokens (at most ", params.max_size_difference, " allowed)");
  const int32_t common = std::min(n_t, n_d);
  for (int32_t i = 0; i < common; ++i) {
    const auto& a = target.tokens[static_cast<size_t>(i)];
    const auto& b = draft.tokens[static_cast<size_t>(i)];
    if (a != b)
      return make_error("token ", i, " differs: target ", printable(a), " vs draft ", printable(b), " (first of ",
                        common, " common ids to differ)");
  }
  return ok_status();
}

}  // namespace tandem
