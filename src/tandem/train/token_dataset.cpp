// In-memory token dataset (see token_dataset.h).
#include "tandem/train/token_dataset.h"

#include <algorithm>

namespace tandem {

Status InMemoryTokens::read(int64_t offset, std::span<int32_t> out) const {
  const int64_t n = static_cast<int64_t>(out.size());
  if (offset < 0 || n > size() || offset > size() - n)
    return make_error("token dataset: reading ", n, " tokens at offset ", offset, " of a dataset of ", size());
  std::copy_n(tokens_.begin() + offset, n, out.begin());
  return ok_status();
}

}  // namespace tandem
