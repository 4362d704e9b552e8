// Versioned codecs for Request, Reply, OpRecord and Attr (fs/ops.h).
//
// Request v1:  u8 version=1 | u16 op | creds | the op's fields (kFieldsOf)
//   creds:     u32 uid | u32 gid | u8 n (<= 64) | n x u32 group
//   fields, in this order when the op uses them:
//     ino u64 | parent u64 | name bytes | new_parent u64 | new_name bytes |
//     mode u32 | umask u32 | rdev u64 | flags u32 | offset u64 | length u64 |
//     data bytes | set (u32 valid, u32 mode, u32 uid, u32 gid, u64 size,
//                       i64 atime_ns, i64 mtime_ns, i64 ctime_ns)
//   bytes = u32 length + bytes; bounds: names 255, data per op (symlink 4095,
//   xattr value 65536, write 1 MiB, otherwise 0).
// Attr v1:     u8 version=1 | 80-byte body (kAttrBodyBytes)
// Reply v1:    u8 version=1 | i32 err | attr | data bytes (<= 2 MiB) |
//              u64 offset | u32 n entries (<= 4096) | n x entry |
//              u8 has_statfs | [statfs: 6 x u64 + u32 name_max]
//   entry:     name bytes (<= 255) | u64 ino | u32 type | u64 cookie | attr
// Reply v2:    the v1 fields (version byte 2) | parent_attr. Written only
//              when parent_attr.ino != 0, so every other reply keeps v1's bytes.
// OpRecord v1: u8 version=1 | u64 session | u64 request | u64 oldest_unreplied |
//              i64 time_ns | u64 new_ino | Request (with its own version)
#include <cinttypes>
#include <cstdio>

#include "base/coding.h"
#include "fs/ops.h"
#include "fs/repair.h"

namespace baton::fs {
namespace {

constexpr uint8_t kRequestVersion = 1;
constexpr uint8_t kReplyVersion = 1;
constexpr uint8_t kReplyWithParentVersion = 2;
constexpr uint8_t kRecordVersion = 1;
constexpr uint8_t kAttrVersion = 1;
constexpr size_t kAttrBodyBytes = 8 + 4 * 4 + 8 * 3 + 8 * 3 + 8;
static_assert(kAttrBodyBytes == 80);
constexpr uint32_t kGroupsMax = 64;
constexpr uint32_t kReplyDataMaxBytes = 2u << 20;
constexpr uint32_t kReplyEntriesMax = 4096;

enum Field : uint32_t {
  kFIno = 1 << 0, kFParent = 1 << 1, kFName = 1 << 2, kFNewParent = 1 << 3,
  kFNewName = 1 << 4, kFMode = 1 << 5, kFUmask = 1 << 6, kFRdev = 1 << 7,
  kFFlags = 1 << 8, kFOffset = 1 << 9, kFLength = 1 << 10, kFData = 1 << 11,
  kFSet = 1 << 12,
};

// Which fields each op carries; 0 = unknown op.
uint32_t FieldsOf(Op op) {
  switch (op) {
    case Op::kLookup: return kFParent | kFName;
    case Op::kGetattr: case Op::kReadlink: case Op::kListxattr: return kFIno;
    case Op::kReaddir: return kFIno | kFOffset | kFLength;
    case Op::kRead: return kFIno | kFOffset | kFLength;
    case Op::kGetxattr: return kFIno | kFName | kFLength;
    case Op::kStatfs: return kFIno;
    case Op::kOpen: return kFIno | kFFlags;
    case Op::kAccess: return kFIno | kFMode;
    case Op::kSeekData: return kFIno | kFOffset | kFFlags;
    case Op::kMknod: return kFParent | kFName | kFMode | kFUmask | kFRdev | kFFlags;
    case Op::kMkdir: return kFParent | kFName | kFMode | kFUmask;
    case Op::kSymlink: return kFParent | kFName | kFData;
    case Op::kLink: return kFIno | kFNewParent | kFNewName;
    case Op::kUnlink: case Op::kRmdir: return kFParent | kFName;
    case Op::kRename: return kFParent | kFName | kFNewParent | kFNewName | kFFlags;
    case Op::kSetattr: return kFIno | kFSet;
    case Op::kWrite: return kFIno | kFOffset | kFData | kFFlags;
    case Op::kSetxattr: return kFIno | kFName | kFData | kFFlags;
    case Op::kRemovexattr: return kFIno | kFName;
    case Op::kFallocate: return kFIno | kFFlags | kFOffset | kFLength;
    case Op::kReclaim: return kFIno;
    case Op::kRepair: return kFIno | kFParent | kFName | kFFlags | kFOffset | kFLength | kFData;
    case Op::kFsync: case Op::kRelease: return kFIno;
  }
  return 0;
}

uint32_t DataMaxOf(Op op) {
  switch (op) {
    case Op::kSymlink: return kWireNameMaxBytes;
    case Op::kSetxattr: return kXattrValueMaxBytes;
    case Op::kWrite: return kWriteMaxBytes;
    case Op::kRepair: return kWireNameMaxBytes;  // a raw store key (fs/repair.h)
    default: return 0;
  }
}

void PutAttr(std::string* dst, const Attr& a) {
  PutU8(dst, kAttrVersion);
  PutU64(dst, a.ino);
  PutU32(dst, a.mode);
  PutU32(dst, a.nlink);
  PutU32(dst, a.uid);
  PutU32(dst, a.gid);
  PutU64(dst, a.rdev);
  PutU64(dst, a.size);
  PutU64(dst, a.blocks);
  PutI64(dst, a.atime_ns);
  PutI64(dst, a.mtime_ns);
  PutI64(dst, a.ctime_ns);
  PutU64(dst, a.generation);
}

bool GetAttr(Decoder& d, Attr* a) {
  uint8_t v = 0;
  if (!d.GetU8(&v) || v != kAttrVersion) return false;
  return d.GetU64(&a->ino) && d.GetU32(&a->mode) && d.GetU32(&a->nlink) && d.GetU32(&a->uid) &&
         d.GetU32(&a->gid) && d.GetU64(&a->rdev) && d.GetU64(&a->size) && d.GetU64(&a->blocks) &&
         d.GetI64(&a->atime_ns) && d.GetI64(&a->mtime_ns) && d.GetI64(&a->ctime_ns) &&
         d.GetU64(&a->generation);
}

void PutRequestBody(std::string* dst, const Request& r) {
  PutU8(dst, kRequestVersion);
  PutU16(dst, static_cast<uint16_t>(r.op));
  PutU32(dst, r.creds.uid);
  PutU32(dst, r.creds.gid);
  size_t n = std::min<size_t>(r.creds.groups.size(), kGroupsMax);
  PutU8(dst, static_cast<uint8_t>(n));
  for (size_t i = 0; i < n; i++) PutU32(dst, r.creds.groups[i]);
  uint32_t f = FieldsOf(r.op);
  if (f & kFIno) PutU64(dst, r.ino);
  if (f & kFParent) PutU64(dst, r.parent);
  if (f & kFName) PutBytes(dst, r.name);
  if (f & kFNewParent) PutU64(dst, r.new_parent);
  if (f & kFNewName) PutBytes(dst, r.new_name);
  if (f & kFMode) PutU32(dst, r.mode);
  if (f & kFUmask) PutU32(dst, r.umask);
  if (f & kFRdev) PutU64(dst, r.rdev);
  if (f & kFFlags) PutU32(dst, r.flags);
  if (f & kFOffset) PutU64(dst, r.offset);
  if (f & kFLength) PutU64(dst, r.length);
  if (f & kFData) PutBytes(dst, r.data);
  if (f & kFSet) {
    PutU32(dst, r.set.valid);
    PutU32(dst, r.set.mode);
    PutU32(dst, r.set.uid);
    PutU32(dst, r.set.gid);
    PutU64(dst, r.set.size);
    PutI64(dst, r.set.atime_ns);
    PutI64(dst, r.set.mtime_ns);
    PutI64(dst, r.set.ctime_ns);
  }
}

bool GetCreds(Decoder& d, Creds* c) {
  uint8_t n = 0;
  if (!d.GetU32(&c->uid) || !d.GetU32(&c->gid) || !d.GetU8(&n) || n > kGroupsMax) return false;
  if (d.remaining() < size_t{n} * 4) return false;
  c->groups.resize(n);
  for (uint8_t i = 0; i < n; i++) d.GetU32(&c->groups[i]);
  return d.ok();
}

bool GetSet(Decoder& d, SetattrArgs* s) {
  return d.GetU32(&s->valid) && d.GetU32(&s->mode) && d.GetU32(&s->uid) && d.GetU32(&s->gid) &&
         d.GetU64(&s->size) && d.GetI64(&s->atime_ns) && d.GetI64(&s->mtime_ns) && d.GetI64(&s->ctime_ns);
}

bool GetRequestBody(Decoder& d, Request* r) {
  uint8_t v = 0;
  uint16_t op = 0;
  if (!d.GetU8(&v) || v != kRequestVersion || !d.GetU16(&op)) return false;
  *r = Request{};
  r->op = static_cast<Op>(op);
  uint32_t f = FieldsOf(r->op);
  if (f == 0 || !GetCreds(d, &r->creds)) return false;
  bool ok = true;
  if (f & kFIno) ok = ok && d.GetU64(&r->ino);
  if (f & kFParent) ok = ok && d.GetU64(&r->parent);
  if (f & kFName) ok = ok && d.GetBytes(&r->name, kWireNameMaxBytes);
  if (f & kFNewParent) ok = ok && d.GetU64(&r->new_parent);
  if (f & kFNewName) ok = ok && d.GetBytes(&r->new_name, kWireNameMaxBytes);
  if (f & kFMode) ok = ok && d.GetU32(&r->mode);
  if (f & kFUmask) ok = ok && d.GetU32(&r->umask);
  if (f & kFRdev) ok = ok && d.GetU64(&r->rdev);
  if (f & kFFlags) ok = ok && d.GetU32(&r->flags);
  if (f & kFOffset) ok = ok && d.GetU64(&r->offset);
  if (f & kFLength) ok = ok && d.GetU64(&r->length);
  if (f & kFData) ok = ok && d.GetBytes(&r->data, DataMaxOf(r->op));
  if (f & kFSet) ok = ok && GetSet(d, &r->set);
  return ok;
}

void PutStatfs(std::string* dst, const StatfsInfo& s) {
  PutU64(dst, s.block_size);
  PutU64(dst, s.blocks_total);
  PutU64(dst, s.blocks_free);
  PutU64(dst, s.blocks_avail);
  PutU64(dst, s.files_total);
  PutU64(dst, s.files_free);
  PutU32(dst, s.name_max);
}

bool GetStatfs(Decoder& d, StatfsInfo* s) {
  return d.GetU64(&s->block_size) && d.GetU64(&s->blocks_total) && d.GetU64(&s->blocks_free) &&
         d.GetU64(&s->blocks_avail) && d.GetU64(&s->files_total) && d.GetU64(&s->files_free) &&
         d.GetU32(&s->name_max);
}

bool GetEntries(Decoder& d, std::vector<DirEntry>* out) {
  uint32_t n = 0;
  if (!d.GetU32(&n) || n > kReplyEntriesMax) return false;
  // Each entry takes at least 4 + 8 + 4 + 8 + 81 bytes: bound before reserving.
  if (d.remaining() / (24 + 1 + kAttrBodyBytes) < n) return false;
  out->resize(n);
  for (auto& e : *out) {
    if (!d.GetBytes(&e.name, kNameMaxBytes) || !d.GetU64(&e.ino) || !d.GetU32(&e.type) ||
        !d.GetU64(&e.cookie) || !GetAttr(d, &e.attr))
      return false;
  }
  return true;
}

Status Malformed(const char* what) { return Status::Corruption(std::string("malformed ") + what); }

}  // namespace

bool IsQuery(Op op) { return static_cast<uint16_t>(op) >= 1 && static_cast<uint16_t>(op) <= 11; }
bool IsMutation(Op op) {
  uint16_t v = static_cast<uint16_t>(op);
  return (v >= 100 && v <= 111) || op == Op::kReclaim || op == Op::kRepair;
}
bool IsKnownOp(Op op) { return FieldsOf(op) != 0; }
bool IsInternalOp(Op op) { return op == Op::kReclaim || op == Op::kRepair; }

const char* OpName(Op op) {
  switch (op) {
    case Op::kLookup: return "lookup";
    case Op::kGetattr: return "getattr";
    case Op::kReadlink: return "readlink";
    case Op::kReaddir: return "readdir";
    case Op::kRead: return "read";
    case Op::kGetxattr: return "getxattr";
    case Op::kListxattr: return "listxattr";
    case Op::kStatfs: return "statfs";
    case Op::kOpen: return "open";
    case Op::kAccess: return "access";
    case Op::kSeekData: return "seek";
    case Op::kMknod: return "mknod";
    case Op::kMkdir: return "mkdir";
    case Op::kSymlink: return "symlink";
    case Op::kLink: return "link";
    case Op::kUnlink: return "unlink";
    case Op::kRmdir: return "rmdir";
    case Op::kRename: return "rename";
    case Op::kSetattr: return "setattr";
    case Op::kWrite: return "write";
    case Op::kSetxattr: return "setxattr";
    case Op::kRemovexattr: return "removexattr";
    case Op::kFallocate: return "fallocate";
    case Op::kReclaim: return "reclaim";
    case Op::kRepair: return "repair";
    case Op::kFsync: return "fsync";
    case Op::kRelease: return "release";
  }
  return "unknown";
}

bool Creds::InGroup(uint32_t g) const {
  if (g == gid) return true;
  for (uint32_t x : groups)
    if (x == g) return true;
  return false;
}

std::string EncodeAttr(const Attr& a) {
  std::string s;
  s.reserve(1 + kAttrBodyBytes);
  PutAttr(&s, a);
  return s;
}

Status DecodeAttr(std::string_view in, Attr* out) {
  Decoder d(in);
  if (!GetAttr(d, out) || !d.done()) return Malformed("attr");
  return Status::Ok();
}

std::string EncodeRequest(const Request& req) {
  std::string s;
  s.reserve(64 + req.name.size() + req.new_name.size() + req.data.size());
  PutRequestBody(&s, req);
  return s;
}

Status DecodeRequest(std::string_view in, Request* out) {
  Decoder d(in);
  if (!GetRequestBody(d, out) || !d.done()) return Malformed("request");
  return Status::Ok();
}

std::string EncodeReply(const Reply& rep) {
  std::string s;
  s.reserve(128 + rep.data.size() + rep.entries.size() * 120);
  const bool with_parent = rep.parent_attr.ino != 0;
  PutU8(&s, with_parent ? kReplyWithParentVersion : kReplyVersion);
  PutU32(&s, static_cast<uint32_t>(rep.err));
  PutAttr(&s, rep.attr);
  PutBytes(&s, rep.data);
  PutU64(&s, rep.offset);
  PutU32(&s, static_cast<uint32_t>(rep.entries.size()));
  for (const auto& e : rep.entries) {
    PutBytes(&s, e.name);
    PutU64(&s, e.ino);
    PutU32(&s, e.type);
    PutU64(&s, e.cookie);
    PutAttr(&s, e.attr);
  }
  PutU8(&s, rep.has_statfs ? 1 : 0);
  if (rep.has_statfs) PutStatfs(&s, rep.statfs);
  if (with_parent) PutAttr(&s, rep.parent_attr);
  return s;
}

Status DecodeReply(std::string_view in, Reply* out) {
  Decoder d(in);
  *out = Reply{};
  uint8_t v = 0;
  uint32_t err = 0;
  if (!d.GetU8(&v) || (v != kReplyVersion && v != kReplyWithParentVersion) || !d.GetU32(&err)) {
    return Malformed("reply");
  }
  out->err = static_cast<int32_t>(err);
  if (out->err < 0 || out->err > 4095) return Malformed("reply errno");
  bool ok = GetAttr(d, &out->attr) && d.GetBytes(&out->data, kReplyDataMaxBytes) && d.GetU64(&out->offset) &&
            GetEntries(d, &out->entries) && d.GetBool(&out->has_statfs);
  if (ok && out->has_statfs) ok = GetStatfs(d, &out->statfs);
  if (ok && v == kReplyWithParentVersion) ok = GetAttr(d, &out->parent_attr) && out->parent_attr.ino != 0;
  if (!ok || !d.done()) return Malformed("reply");
  return Status::Ok();
}

std::string EncodeOpRecord(const OpRecord& rec) {
  std::string s;
  s.reserve(96 + rec.req.name.size() + rec.req.new_name.size() + rec.req.data.size());
  PutU8(&s, kRecordVersion);
  PutU64(&s, rec.stamp.session_id);
  PutU64(&s, rec.stamp.request_id);
  PutU64(&s, rec.stamp.oldest_unreplied);
  PutI64(&s, rec.stamp.time_ns);
  PutU64(&s, rec.stamp.new_ino);
  PutRequestBody(&s, rec.req);
  return s;
}

Status DecodeOpRecord(std::string_view in, OpRecord* out) {
  Decoder d(in);
  uint8_t v = 0;
  Stamp& st = out->stamp;
  bool ok = d.GetU8(&v) && v == kRecordVersion && d.GetU64(&st.session_id) && d.GetU64(&st.request_id) &&
            d.GetU64(&st.oldest_unreplied) && d.GetI64(&st.time_ns) && d.GetU64(&st.new_ino) &&
            GetRequestBody(d, &out->req);
  if (!ok || !d.done()) return Malformed("op record");
  return Status::Ok();
}

namespace {
void AppendF(std::string* s, const char* fmt, uint64_t v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  *s += buf;
}
void AppendName(std::string* s, const char* key, const std::string& name) {
  *s += key;
  *s += "=\"";
  for (char c : name) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      s->push_back(c);
    } else {
      AppendF(s, "\\x%02" PRIx64, static_cast<uint8_t>(c));
    }
  }
  *s += "\"";
}
}  // namespace

std::string DescribeOpRecord(const OpRecord& rec) {
  const Request& r = rec.req;
  std::string s = OpName(r.op);
  if (r.op == Op::kRepair) s += std::string(" action=") + RepairActionName(static_cast<RepairAction>(r.flags));
  AppendF(&s, " session=%" PRIu64, rec.stamp.session_id);
  AppendF(&s, " req=%" PRIu64, rec.stamp.request_id);
  AppendF(&s, " time_ns=%" PRId64, static_cast<uint64_t>(rec.stamp.time_ns));
  AppendF(&s, " uid=%" PRIu64, r.creds.uid);
  uint32_t f = FieldsOf(r.op);
  if (rec.stamp.new_ino != 0) AppendF(&s, " new_ino=%" PRIu64, rec.stamp.new_ino);
  if (f & kFIno) AppendF(&s, " ino=%" PRIu64, r.ino);
  if (f & kFParent) AppendF(&s, " parent=%" PRIu64, r.parent);
  if (f & kFName) AppendName(&s, " name", r.name);
  if (f & kFNewParent) AppendF(&s, " new_parent=%" PRIu64, r.new_parent);
  if (f & kFNewName) AppendName(&s, " new_name", r.new_name);
  if (f & kFMode) AppendF(&s, " mode=0%" PRIo64, r.mode);
  if (f & kFFlags) AppendF(&s, " flags=0x%" PRIx64, r.flags);
  if (f & kFOffset) AppendF(&s, " offset=%" PRIu64, r.offset);
  if (f & kFLength) AppendF(&s, " length=%" PRIu64, r.length);
  if (f & kFData) AppendF(&s, " data_bytes=%" PRIu64, r.data.size());
  if (f & kFSet) AppendF(&s, " valid=0x%" PRIx64, r.set.valid);
  return s;
}

}  // namespace baton::fs
