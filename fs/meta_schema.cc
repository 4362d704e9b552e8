#include "fs/meta_schema.h"

namespace baton::fs {

std::string EncodeState(const PersistState& s) {
  std::string out;
  out.reserve(kStateValueBytes);
  PutU8(&out, kStateVersion);
  PutU64(&out, s.applied_lsn);
  PutU64(&out, s.next_ino);
  PutU64(&out, s.inode_count);
  PutU64(&out, s.bytes_stored);
  PutU32(&out, s.chunk_size_bytes);
  PutU32(&out, s.format_version);
  PutU64(&out, s.capacity_bytes);
  PutU64(&out, s.used_bytes);
  return out;
}

Status DecodeState(std::string_view in, PersistState* out) {
  Decoder d(in);
  uint8_t v = 0;
  bool ok = d.GetU8(&v) && (v == kStateVersion || v == kStateVersionV1) && d.GetU64(&out->applied_lsn) &&
            d.GetU64(&out->next_ino) && d.GetU64(&out->inode_count) && d.GetU64(&out->bytes_stored) &&
            d.GetU32(&out->chunk_size_bytes) && d.GetU32(&out->format_version);
  out->capacity_bytes = out->used_bytes = 0;
  if (ok && v == kStateVersion) ok = d.GetU64(&out->capacity_bytes) && d.GetU64(&out->used_bytes);
  if (!ok || !d.done()) return Status::Corruption("malformed store state");
  if (out->format_version != kStoreFormatVersion) return Status::Unsupported("metadata store format version");
  if (out->chunk_size_bytes < 512 || out->chunk_size_bytes > (16u << 20))
    return Status::Corruption("bad chunk size in store state");
  return Status::Ok();
}

void EncodeInode(const InodeRec& r, std::string* out) {
  out->clear();
  out->reserve(kInodeFixedBytes + r.target.size());
  *out = EncodeAttr(r.attr);
  PutU64(out, r.parent);
  PutU64(out, r.next_cookie);
  PutU64(out, r.stored_bytes);
  out->append(r.target);
}

Status DecodeInode(std::string_view in, InodeRec* out) {
  if (in.size() < kInodeFixedBytes || in.size() > kInodeFixedBytes + kSymlinkMaxBytes)
    return Status::Corruption("malformed inode value");
  BATON_RETURN_IF_ERROR(DecodeAttr(in.substr(0, kAttrValueBytes), &out->attr));
  const char* p = in.data() + kAttrValueBytes;
  out->parent = LoadU64(p);
  out->next_cookie = LoadU64(p + 8);
  out->stored_bytes = LoadU64(p + 16);
  out->target.assign(in.substr(kInodeFixedBytes));
  return Status::Ok();
}

void EncodeDentry(const DentryVal& d, char out[kDentryValueBytes]) {
  out[0] = static_cast<char>(kDentryVersion);
  StoreU64(out + 1, d.ino);
  StoreU32(out + 9, d.type);
  StoreU64(out + 13, d.cookie);
}

Status DecodeDentry(std::string_view in, DentryVal* out) {
  if (in.size() != kDentryValueBytes || static_cast<uint8_t>(in[0]) != kDentryVersion)
    return Status::Corruption("malformed dentry value");
  out->ino = LoadU64(in.data() + 1);
  out->type = LoadU32(in.data() + 9);
  out->cookie = LoadU64(in.data() + 13);
  return Status::Ok();
}

void EncodeSession(const SessionVal& s, char out[kSessionValueBytes]) {
  out[0] = static_cast<char>(kSessionVersion);
  StoreU64(out + 1, s.last_request_id);
  StoreU64(out + 9, static_cast<uint64_t>(s.last_seen_ns));
  StoreU64(out + 17, s.last_prune_request_id);
  StoreU64(out + 25, s.pruned_below);
}

Status DecodeSession(std::string_view in, SessionVal* out) {
  bool v2 = in.size() == kSessionValueBytes && static_cast<uint8_t>(in[0]) == kSessionVersion;
  bool v1 = in.size() == kSessionValueBytesV1 && static_cast<uint8_t>(in[0]) == kSessionVersionV1;
  if (!v1 && !v2) return Status::Corruption("malformed session value");
  out->last_request_id = LoadU64(in.data() + 1);
  out->last_seen_ns = static_cast<int64_t>(LoadU64(in.data() + 9));
  out->last_prune_request_id = v2 ? LoadU64(in.data() + 17) : 0;
  out->pruned_below = v2 ? LoadU64(in.data() + 25) : 0;
  return Status::Ok();
}

}  // namespace baton::fs
