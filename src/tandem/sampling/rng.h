// The random number generator of one sequence: xoshiro256** (Blackman & Vigna,
// "Scrambled linear pseudorandom number generators", 2018), seeded through
// splitmix64. Each sequence (sampler) owns one, never a global, so server slots
// and the two models of speculative decoding draw independently and a seed
// reproduces a run exactly.
//
// The stream, fixed so results reproduce across builds and platforms:
//   seed(s):          state[0..3] = the first four outputs of splitmix64 started at s
//   next_u64():       xoshiro256** output, then the state advances
//   uniform():        float in [0, 1) from the top 24 bits: (next_u64() >> 40) * 2^-24
//   uniform_double(): double in [0, 1) from the top 53 bits: (next_u64() >> 11) * 2^-53
// Each uniform*() call consumes exactly one next_u64().
#pragma once

#include <array>
#include <cstdint>

namespace tandem {

class Rng {
 public:
  using State = std::array<uint64_t, 4>;

  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  // Restores a state saved with state() (e.g. to replay draws); an all-zero state
  // is the generator's one fixed point, so it is replaced by the seed-0 state.
  static Rng from_state(const State& s);

  void reseed(uint64_t seed);
  const State& state() const { return s_; }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  float uniform() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
  double uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  friend bool operator==(const Rng&, const Rng&) = default;

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  State s_{};
};

// One step of splitmix64 (Steele, Lea & Flood 2014): advances `x` and returns the
// next output. Used for seeding because it spreads even small, similar seeds.
uint64_t splitmix64(uint64_t& x);

}  // namespace tandem
