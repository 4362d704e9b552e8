// Checksums: xxHash3-64 with a seed. The seed ties a checksum to its context
// (volume id, segment number, ...) so that a well-formed block from another
// volume or an older life of a segment fails its check.
#pragma once

#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace baton {

inline uint64_t Checksum64(std::string_view data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

// Incremental form for data in several pieces.
class Checksummer {
 public:
  explicit Checksummer(uint64_t seed) { XXH3_64bits_reset_withSeed(&state_, seed); }
  void Update(std::string_view data) { XXH3_64bits_update(&state_, data.data(), data.size()); }
  uint64_t Digest() const { return XXH3_64bits_digest(&state_); }

 private:
  XXH3_state_t state_{};  // value-initialised: XXH3 reset reads state_.seed (gcc -Wmaybe-uninitialized)
};

// Folds a 128-bit volume id into a 64-bit seed.
inline uint64_t SeedFromVolumeId(const uint8_t id[16]) {
  return XXH3_64bits(id, 16);
}

}  // namespace baton
