// The wire frame: every byte of it. docs/format/wire-protocol.md is the prose
// version. All integers are little-endian (base/coding.h).
//
//   offset size field
//   0      4    magic        kFrameMagic ("BTNF" read as bytes 'B','T','N','F')
//   4      4    payload_len  bytes of payload after the header, <= kMaxPayloadBytes
//   8      2    kind         FrameKind
//   10     2    opcode       fs::Op for kRequest/kReply (informational), else 0
//   12     4    flags        0 (reserved; receivers ignore unknown bits)
//   16     8    request_id   the session's request id (kRequest/kReply), else 0
//   24     8    checksum     XXH3_64(payload, seed = XXH3_64(header bytes
//                            [0, 24), seed = kFrameChecksumSeed))
//   32     ...  payload
//
// A receiver checks magic and payload_len before allocating anything, and
// rejects the frame (and closes the connection) on any mismatch.
//
// Kind numbers are never reused: retire a number with a comment.
#pragma once

#include <cstddef>
#include <cstdint>

namespace baton::proto {

constexpr uint32_t kFrameMagic = 0x464E5442;  // bytes "BTNF"
constexpr size_t kFrameHeaderBytes = 32;
constexpr size_t kOffMagic = 0;
constexpr size_t kOffPayloadLen = 4;
constexpr size_t kOffKind = 8;
constexpr size_t kOffOpcode = 10;
constexpr size_t kOffFlags = 12;
constexpr size_t kOffRequestId = 16;
constexpr size_t kOffChecksum = 24;
constexpr size_t kChecksummedHeaderBytes = kOffChecksum;  // header bytes covered by the checksum
// Largest payload: a 1 MiB write (fs::kWriteMaxBytes) or read plus the
// request fields, with room to spare; anything longer is rejected unread.
constexpr uint32_t kMaxPayloadBytes = (2u << 20) + 4096;
constexpr uint64_t kFrameChecksumSeed = 0x62746f6e66726d31ull;  // "btonfrm1"

static_assert(kOffMagic + 4 == kOffPayloadLen);
static_assert(kOffPayloadLen + 4 == kOffKind);
static_assert(kOffKind + 2 == kOffOpcode);
static_assert(kOffOpcode + 2 == kOffFlags);
static_assert(kOffFlags + 4 == kOffRequestId);
static_assert(kOffRequestId + 8 == kOffChecksum);
static_assert(kOffChecksum + 8 == kFrameHeaderBytes);

enum class FrameKind : uint16_t {
  kHello = 1,        // client -> MDS: proto::Hello
  kHelloReply = 2,   // MDS -> client: proto::HelloReply
  kRequest = 3,      // client -> MDS: u64 oldest_unreplied, then fs::EncodeRequest
  kReply = 4,        // MDS -> client: fs::EncodeReply
  kError = 5,        // either way: proto::ErrorBody; the sender closes after it
  kStatus = 6,       // client -> MDS: empty payload (no handshake needed)
  kStatusReply = 7,  // MDS -> client: proto::StatusInfo
};
constexpr uint16_t kMaxFrameKind = 7;

// The protocol version carried in HELLO; an MDS speaks only its own. Version
// 2 added fs::kMknodOpen (a create that also opens): a version-1 MDS would
// ignore the flag and hold nothing, so the two do not mix.
constexpr uint32_t kProtocolVersion = 2;

// Byte length of the kRequest prefix (oldest_unreplied).
constexpr size_t kRequestPrefixBytes = 8;

}  // namespace baton::proto
