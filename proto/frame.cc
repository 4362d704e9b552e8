#include "proto/frame.h"

#include <cassert>

#include "base/checksum.h"
#include "base/coding.h"
#include "proto/messages.h"

namespace baton::proto {

namespace {

uint64_t FrameChecksum(std::string_view header24, std::string_view payload) {
  // Chained: the header's hash seeds the payload's hash.
  return Checksum64(payload, Checksum64(header24, kFrameChecksumSeed));
}

bool KnownKind(uint16_t k) { return k >= 1 && k <= kMaxFrameKind; }

}  // namespace

void AppendFrame(std::string* out, const Frame& f) {
  assert(f.payload.size() <= kMaxPayloadBytes);
  size_t start = out->size();
  PutU32(out, kFrameMagic);
  PutU32(out, static_cast<uint32_t>(f.payload.size()));
  PutU16(out, static_cast<uint16_t>(f.kind));
  PutU16(out, f.opcode);
  PutU32(out, f.flags);
  PutU64(out, f.request_id);
  std::string_view header(out->data() + start, kChecksummedHeaderBytes);
  PutU64(out, FrameChecksum(header, f.payload));
  out->append(f.payload);
}

std::string EncodeFrame(const Frame& f) {
  std::string out;
  out.reserve(kFrameHeaderBytes + f.payload.size());
  AppendFrame(&out, f);
  return out;
}

const char* FrameErrorName(FrameError e) {
  switch (e) {
    case FrameError::kNone: return "no error";
    case FrameError::kBadMagic: return "bad magic";
    case FrameError::kTooLong: return "payload too long";
    case FrameError::kBadChecksum: return "bad checksum";
    case FrameError::kUnknownKind: return "unknown frame kind";
  }
  return "?";
}

void FrameDecoder::Feed(std::string_view bytes) {
  if (error_ != FrameError::kNone) return;
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {  // compact consumed bytes
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Status FrameDecoder::Fail(FrameError e, std::string detail) {
  error_ = e;
  buf_.clear();
  pos_ = 0;
  return Status::Corruption(std::string("frame: ") + FrameErrorName(e) + detail);
}

StatusOr<bool> FrameDecoder::Next(Frame* out) {
  if (error_ != FrameError::kNone) return Status::Corruption(std::string("frame: ") + FrameErrorName(error_));
  size_t avail = buf_.size() - pos_;
  const char* p = buf_.data() + pos_;
  // Check magic and length as soon as their bytes are here, before waiting
  // for (or allocating) a payload.
  if (avail >= 4 && LoadU32(p + kOffMagic) != kFrameMagic) return Fail(FrameError::kBadMagic, "");
  if (avail < kFrameHeaderBytes) return false;
  uint32_t len = LoadU32(p + kOffPayloadLen);
  if (len > kMaxPayloadBytes) return Fail(FrameError::kTooLong, " (" + std::to_string(len) + " bytes)");
  uint16_t kind = LoadU16(p + kOffKind);
  if (!KnownKind(kind)) return Fail(FrameError::kUnknownKind, " (" + std::to_string(kind) + ")");
  if (avail < kFrameHeaderBytes + len) return false;
  std::string_view payload(p + kFrameHeaderBytes, len);
  if (FrameChecksum(std::string_view(p, kChecksummedHeaderBytes), payload) != LoadU64(p + kOffChecksum)) {
    return Fail(FrameError::kBadChecksum, "");
  }
  out->kind = static_cast<FrameKind>(kind);
  out->opcode = LoadU16(p + kOffOpcode);
  out->flags = LoadU32(p + kOffFlags);
  out->request_id = LoadU64(p + kOffRequestId);
  out->payload.assign(payload.data(), payload.size());
  pos_ += kFrameHeaderBytes + len;
  return true;
}

namespace {

void FuzzPayload(const Frame& f) {
  switch (f.kind) {
    case FrameKind::kHello: { Hello h; DecodeHello(f.payload, &h).PermitUnchecked(); break; }
    case FrameKind::kHelloReply: { HelloReply h; DecodeHelloReply(f.payload, &h).PermitUnchecked(); break; }
    case FrameKind::kError: { ErrorBody e; DecodeErrorBody(f.payload, &e).PermitUnchecked(); break; }
    case FrameKind::kStatusReply: { StatusInfo s; DecodeStatusInfo(f.payload, &s).PermitUnchecked(); break; }
    case FrameKind::kRequest: { uint64_t o; std::string_view r; SplitRequestPayload(f.payload, &o, &r).PermitUnchecked(); break; }
    default: break;
  }
}

}  // namespace

int FuzzFrameDecoder(const uint8_t* data, size_t size) {
  FrameDecoder dec;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks the piece size, so the fuzzer explores split points.
  size_t piece = size > 0 ? 1 + data[0] % 64 : 1;
  for (size_t off = 0; off < in.size(); off += piece) {
    dec.Feed(in.substr(off, piece));
    for (;;) {
      Frame f;
      StatusOr<bool> got = dec.Next(&f);
      if (!got.ok() || !*got) break;
      FuzzPayload(f);
    }
    if (dec.error() != FrameError::kNone) break;
  }
  return 0;
}

}  // namespace baton::proto
