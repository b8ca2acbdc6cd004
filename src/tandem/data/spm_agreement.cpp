// Comparing tandem's tokenizer with sentencepiece's encoder: see spm_agreement.h.
#include "tandem/data/spm_agreement.h"

#include <sentencepiece_processor.h>

#include "tandem/tokenizer/tokenizer.h"

namespace tandem {
namespace {

std::string ids_string(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s + "]";
}

}  // namespace

Result<SpmAgreement> compare_with_sentencepiece(std::string_view model_proto, const Tokenizer& ours,
                                                std::span<const std::string> lines, size_t max_reported) {
  sentencepiece::SentencePieceProcessor sp;
  if (auto st = sp.LoadFromSerializedProto(model_proto); !st.ok())
    return make_error("sentencepiece model: ", st.ToString());
  if (sp.GetPieceSize() != ours.n_vocab())
    return make_error("agreement check: the sentencepiece model has ", sp.GetPieceSize(), " pieces, the tokenizer ",
                      ours.n_vocab(), " (not the same model)");
  SpmAgreement a;
  std::vector<int> ref;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    ref.clear();
    if (auto st = sp.Encode(line, &ref); !st.ok())
      return make_error("sentencepiece encode of line ", i + 1, ": ", st.ToString());
    const std::vector<int32_t> got = ours.encode(line, EncodeOptions{.add_special = false});
    const std::vector<int32_t> want(ref.begin(), ref.end());
    ++a.lines;
    a.bytes += static_cast<int64_t>(line.size());
    a.tokens += static_cast<int64_t>(got.size());
    a.spm_tokens += static_cast<int64_t>(want.size());
    if (got == want)
      ++a.equal;
    else if (a.mismatches.size() < max_reported)
      a.mismatches.push_back("line " + std::to_string(i + 1) + " '" + line.substr(0, 80) +
                             "': sentencepiece " + ids_string(want) + ", tandem " + ids_string(got));
    if (ours.decode(got) == line) ++a.round_trips;
  }
  return a;
}

}  // namespace tandem
