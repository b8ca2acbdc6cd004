// libFuzzer target over the GGUF reader: any byte string must parse or return an
// error; never crash, leak, read out of bounds or hit undefined behaviour. When a
// file parses, everything a consumer would touch is touched too.
#include <cstddef>
#include <cstdint>
#include <span>

#include "tandem/gguf/gguf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = tandem::GgufFile::parse(std::span<const uint8_t>(data, size), "fuzz-input");
  if (!f) return 0;
  size_t sink = 0;
  for (const auto& [k, v] : f->metadata()) sink += k.size() + v.to_string(4).size();
  for (const auto& t : f->tensors()) {
    auto b = t.bytes();
    if (!b.empty()) sink += b[0] + b[b.size() - 1];
  }
  (void)f->get_string("general.architecture");
  (void)f->get_int("general.alignment", 0);
  return sink == 0xdeadbeef ? 1 : 0;
}
