// Frames: encoding and an incremental decoder (layout in proto/frame_format.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "proto/frame_format.h"

namespace baton::proto {

struct Frame {
  FrameKind kind = FrameKind::kError;
  uint16_t opcode = 0;
  uint32_t flags = 0;
  uint64_t request_id = 0;
  std::string payload;
};

// Appends the encoded frame to *out. Asserts payload <= kMaxPayloadBytes.
void AppendFrame(std::string* out, const Frame& f);
std::string EncodeFrame(const Frame& f);

// Why the decoder stopped.
enum class FrameError {
  kNone = 0,
  kBadMagic,
  kTooLong,
  kBadChecksum,
  kUnknownKind,
};
const char* FrameErrorName(FrameError e);

// Consumes bytes as they come from a socket and yields whole frames. After
// the first error it stays failed (the connection must be closed).
class FrameDecoder {
 public:
  void Feed(std::string_view bytes);
  // true: *out holds the next frame; false: more bytes needed; an error
  // status (kCorruption naming the problem, error() tells which) otherwise.
  StatusOr<bool> Next(Frame* out);
  FrameError error() const { return error_; }
  size_t buffered_bytes() const { return buf_.size() - pos_; }

 private:
  Status Fail(FrameError e, std::string detail);
  std::string buf_;
  size_t pos_ = 0;  // start of the unconsumed bytes in buf_
  FrameError error_ = FrameError::kNone;
};

// Fuzz entry: feeds arbitrary bytes through a FrameDecoder (in pieces chosen
// by the input) and decodes every frame's payload as its kind would be.
// Never crashes; returns 0.
int FuzzFrameDecoder(const uint8_t* data, size_t size);

}  // namespace baton::proto
