// Little-endian fixed-width encoding with bounds-checked decoding. Every
// on-disk and on-wire integer goes through these helpers.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace baton {

inline void PutU8(std::string* dst, uint8_t v) { dst->push_back(static_cast<char>(v)); }
inline void PutU16(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  dst->append(b, 2);
}
// The formats are little-endian; so is every machine BatonFS builds for.
static_assert(std::endian::native == std::endian::little, "BatonFS assumes a little-endian host");

inline void PutU32(std::string* dst, uint32_t v) { dst->append(reinterpret_cast<const char*>(&v), 4); }
inline void PutU64(std::string* dst, uint64_t v) { dst->append(reinterpret_cast<const char*>(&v), 8); }
inline void PutI64(std::string* dst, int64_t v) { PutU64(dst, static_cast<uint64_t>(v)); }
// Length-prefixed (u32) byte string.
inline void PutBytes(std::string* dst, std::string_view s) {
  PutU32(dst, static_cast<uint32_t>(s.size()));
  dst->append(s.data(), s.size());
}

inline uint16_t LoadU16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | (static_cast<uint8_t>(p[1]) << 8));
}
inline uint32_t LoadU32(const char* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
inline uint64_t LoadU64(const char* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
inline void StoreU32(char* p, uint32_t v) { memcpy(p, &v, 4); }
inline void StoreU64(char* p, uint64_t v) { memcpy(p, &v, 8); }

// Big-endian u64, for LMDB keys whose byte order must sort numerically.
inline void PutU64BE(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; i++) b[i] = static_cast<char>(v >> (8 * (7 - i)));
  dst->append(b, 8);
}
inline uint64_t LoadU64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Reads fields from a byte string. Every Get returns false once the input is
// exhausted or malformed, and the reader stays failed: decode a whole struct,
// then check ok() once.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool GetU8(uint8_t* v) { return Fixed(1) && (*v = static_cast<uint8_t>(in_[pos_++]), true); }
  bool GetU16(uint16_t* v) { return Fixed(2) && (*v = LoadU16(in_.data() + pos_), pos_ += 2, true); }
  bool GetU32(uint32_t* v) { return Fixed(4) && (*v = LoadU32(in_.data() + pos_), pos_ += 4, true); }
  bool GetU64(uint64_t* v) { return Fixed(8) && (*v = LoadU64(in_.data() + pos_), pos_ += 8, true); }
  bool GetI64(int64_t* v) {
    uint64_t u;
    if (!GetU64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool GetBool(bool* v) {
    uint8_t b;
    if (!GetU8(&b) || b > 1) return Fail();
    *v = b != 0;
    return true;
  }
  // Length-prefixed bytes with an upper bound on the length.
  bool GetBytes(std::string* v, uint32_t max_len = 1u << 26) {
    uint32_t n;
    if (!GetU32(&n) || n > max_len || !Fixed(n)) return Fail();
    v->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool GetRaw(size_t n, std::string_view* v) {
    if (!Fixed(n)) return false;
    *v = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }
  size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  size_t position() const { return pos_; }

 private:
  bool Fixed(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) return Fail();
    return true;
  }
  bool Fail() {
    ok_ = false;
    return false;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace baton
