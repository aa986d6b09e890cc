// Philox4x32-10 counter-based generator (Salmon et al., SC'11), usable from host and device code.
// A (seed, counter) pair fully determines the output, so random ops are reproducible and parallel
// chunks need no shared state: element i of a stream uses counter (offset + i / 4), lane i % 4.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"


namespace tf {

struct Philox {
  uint32_t key0, key1;

  TF_HD explicit Philox(uint64_t seed) : key0(uint32_t(seed)), key1(uint32_t(seed >> 32)) {}

  // Four 32-bit random words for a 64-bit counter.
  TF_HD void generate(uint64_t counter, uint32_t out[4]) const {
    uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      const uint64_t p0 = uint64_t(0xD2511F53u) * c0, p1 = uint64_t(0xCD9E8D57u) * c2;
      const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0, n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
      c1 = uint32_t(p1);
      c3 = uint32_t(p0);
      c0 = n0;
      c2 = n2;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
  }

  // The i-th 32-bit word of the stream starting at counter `offset`.
  TF_HD uint32_t word(uint64_t offset, uint64_t i) const {
    uint32_t w[4];
    generate(offset + i / 4, w);
    return w[i % 4];
  }

  // Uniform float in [0, 1) with 24 random bits of a word.
  TF_HD static float to_uniform(uint32_t w) { return float(w >> 8) * (1.0f / 16777216.0f); }

  // Uniform float in [0, 1) from the i-th word of the stream.
  TF_HD float uniform(uint64_t offset, uint64_t i) const { return to_uniform(word(offset, i)); }
};

}  // namespace tf
