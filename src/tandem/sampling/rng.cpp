// Seeding of the per-sequence generator (see rng.h for the documented stream).
#include "tandem/sampling/rng.h"

namespace tandem {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void Rng::reseed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
}

Rng Rng::from_state(const State& s) {
  Rng r;
  if (s[0] | s[1] | s[2] | s[3]) r.s_ = s;
  return r;
}

}  // namespace tandem
