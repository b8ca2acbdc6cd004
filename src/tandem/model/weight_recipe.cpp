#include "tandem/model/weight_recipe.h"

#include <cctype>
#include <charconv>

#include "tandem/tensor/quants.h"

namespace tandem {

int WeightRecipe::file_type() const {
  switch (type) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q4_1: return 3;
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q5_0: return 8;
    case GgmlType::Q5_1: return 9;
    case GgmlType::Q4_K: return k_mix ? 15 : 14;  // Q4_K_M : Q4_K_S
    case GgmlType::Q5_K: return k_mix ? 17 : 16;  // Q5_K_M : Q5_K_S
    case GgmlType::Q6_K: return 18;
    case GgmlType::BF16: return 32;
    default: return 0;
  }
}

bool WeightRecipe::more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

Result<WeightRecipe> parse_weight_recipe(const std::string& name) {
  std::string up;
  for (char c : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up == "Q4_K_M" || up == "Q5_K_M") return WeightRecipe{up == "Q4_K_M" ? GgmlType::Q4_K : GgmlType::Q5_K, true};
  auto t = ggml_type_from_name(up);
  if (!t || !is_compute_type(*t))
    return make_error("unknown weight type '", name,
                      "' (expected F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q4_K_M or Q5_K_M)");
  return WeightRecipe{*t, false};
}

int64_t tensor_layer(std::string_view name) {
  if (!name.starts_with("blk.")) return -1;
  int64_t l = -1;
  const char* b = name.data() + 4;
  auto [p, ec] = std::from_chars(b, name.data() + name.size(), l);
  if (ec != std::errc() || p == b || p == name.data() + name.size() || *p != '.') return -1;
  return l;
}

}  // namespace tandem
