// Codec round trips and rejection of truncated, oversized and random input.
#define BOOST_TEST_MODULE fs_op_codec
#include "base/coding.h"
#include "tests/fs/fs_test_util.h"

using namespace baton;
using namespace baton::fs;
using namespace baton::fs::testing;

namespace {

Attr SampleAttr() {
  return Attr{.ino = 9, .mode = S_IFREG | 0640, .nlink = 2, .uid = 3, .gid = 4, .rdev = 5, .size = 6, .blocks = 7,
              .atime_ns = -8, .mtime_ns = 9, .ctime_ns = 10, .generation = 11};
}

bool SameAttr(const Attr& a, const Attr& b) { return EncodeAttr(a) == EncodeAttr(b); }

std::vector<OpRecord> SampleRecords() {
  std::vector<OpRecord> v;
  Creds cr{1000, 100, {1, 2, 3}};
  auto add = [&](Request r) {
    OpRecord rec;
    rec.stamp = Stamp{.session_id = 7, .request_id = 8, .oldest_unreplied = 5, .time_ns = 123456789, .new_ino = 77};
    r.creds = cr;
    rec.req = std::move(r);
    v.push_back(std::move(rec));
  };
  add(Request{.op = Op::kMknod, .parent = 1, .name = "file", .mode = S_IFREG | 0644, .umask = 022, .rdev = 5});
  add(Request{.op = Op::kMkdir, .parent = 1, .name = "dir", .mode = 0755, .umask = 077});
  add(Request{.op = Op::kSymlink, .parent = 1, .name = "ln", .data = "target"});
  add(Request{.op = Op::kLink, .ino = 5, .new_parent = 1, .new_name = "hard"});
  add(Request{.op = Op::kUnlink, .parent = 1, .name = "x"});
  add(Request{.op = Op::kRmdir, .parent = 1, .name = "y"});
  add(Request{.op = Op::kRename, .parent = 1, .name = "a", .new_parent = 2, .new_name = "b", .flags = 2});
  add(Request{.op = Op::kSetattr, .ino = 5, .set = {.valid = 0x1ff, .mode = 1, .uid = 2, .gid = 3, .size = 4,
                                                    .atime_ns = -5, .mtime_ns = 6, .ctime_ns = 7}});
  add(Request{.op = Op::kWrite, .ino = 5, .flags = kWriteAppend, .offset = 1ull << 40, .data = std::string(5000, 'd')});
  add(Request{.op = Op::kSetxattr, .ino = 5, .name = "user.k", .flags = 1, .data = "value"});
  add(Request{.op = Op::kRemovexattr, .ino = 5, .name = "user.k"});
  add(Request{.op = Op::kFallocate, .ino = 5, .flags = 3, .offset = 10, .length = 20});
  add(Request{.op = Op::kReclaim, .ino = 5});
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(op_classes) {
  BOOST_TEST(IsQuery(Op::kLookup));
  BOOST_TEST(!IsMutation(Op::kLookup));
  BOOST_TEST(IsMutation(Op::kRename));
  BOOST_TEST(IsMutation(Op::kReclaim));
  BOOST_TEST(!IsMutation(Op::kFsync));
  BOOST_TEST(IsKnownOp(Op::kRelease));
  BOOST_TEST(!IsKnownOp(static_cast<Op>(12)));
  BOOST_TEST(std::string(OpName(Op::kRename)) == "rename");
  Creds c{1, 2, {3, 4}};
  BOOST_TEST(c.InGroup(2));
  BOOST_TEST(c.InGroup(4));
  BOOST_TEST(!c.InGroup(5));
}

BOOST_AUTO_TEST_CASE(record_round_trip_and_describe) {
  for (const OpRecord& rec : SampleRecords()) {
    std::string enc = EncodeOpRecord(rec);
    OpRecord back;
    BOOST_REQUIRE(DecodeOpRecord(enc, &back).ok());
    BOOST_TEST(EncodeOpRecord(back) == enc);
    BOOST_TEST(back.req.name == rec.req.name);
    BOOST_TEST(back.req.data == rec.req.data);
    BOOST_TEST(back.req.creds.groups == rec.req.creds.groups);
    BOOST_TEST(back.stamp.new_ino == 77u);
    std::string req_enc = EncodeRequest(rec.req);
    Request rb;
    BOOST_REQUIRE(DecodeRequest(req_enc, &rb).ok());
    BOOST_TEST(EncodeRequest(rb) == req_enc);
    // every strict prefix is rejected, as is a trailing byte
    for (size_t n = 0; n < enc.size(); n++) BOOST_TEST(!DecodeOpRecord(enc.substr(0, n), &back).ok());
    BOOST_TEST(!DecodeOpRecord(enc + "x", &back).ok());
    std::string line = DescribeOpRecord(rec);
    BOOST_TEST(line.find(OpName(rec.req.op)) == 0u);
    BOOST_TEST(line.find("session=7") != std::string::npos);
  }
  BOOST_TEST_MESSAGE(DescribeOpRecord(SampleRecords()[6]));
}

BOOST_AUTO_TEST_CASE(reply_and_attr_round_trip) {
  Reply r;
  r.err = ENOENT;
  r.attr = SampleAttr();
  r.data = "payload";
  r.offset = 99;
  r.entries.push_back(DirEntry{"a", 3, S_IFDIR, 17, SampleAttr()});
  r.entries.push_back(DirEntry{"b", 4, S_IFREG, 18, Attr{}});
  r.has_statfs = true;
  r.statfs.blocks_total = 1000;
  std::string enc = EncodeReply(r);
  Reply back;
  BOOST_REQUIRE(DecodeReply(enc, &back).ok());
  BOOST_TEST(EncodeReply(back) == enc);
  BOOST_TEST(back.entries.size() == 2u);
  BOOST_TEST(back.entries[0].name == "a");
  BOOST_TEST(SameAttr(back.entries[0].attr, SampleAttr()));
  for (size_t n = 0; n < enc.size(); n++) BOOST_TEST(!DecodeReply(enc.substr(0, n), &back).ok());
  Attr a;
  BOOST_REQUIRE(DecodeAttr(EncodeAttr(SampleAttr()), &a).ok());
  BOOST_TEST(SameAttr(a, SampleAttr()));
  BOOST_TEST(!DecodeAttr(EncodeAttr(SampleAttr()).substr(1), &a).ok());
}

// A reply with a parent directory's attributes is version 2; one without
// keeps version 1's bytes (stored replies of earlier binaries decode as
// before), and a version 2 claiming parent inode 0 is malformed.
BOOST_AUTO_TEST_CASE(reply_with_parent_attr) {
  Reply r;
  r.attr = SampleAttr();
  std::string v1 = EncodeReply(r);
  BOOST_TEST(static_cast<int>(v1[0]) == 1);
  r.parent_attr = SampleAttr();
  r.parent_attr.ino = 1;
  std::string v2 = EncodeReply(r);
  BOOST_TEST(static_cast<int>(v2[0]) == 2);
  BOOST_TEST(v2.size() == v1.size() + EncodeAttr(Attr{}).size());
  Reply back;
  BOOST_REQUIRE(DecodeReply(v2, &back).ok());
  BOOST_TEST(back.parent_attr.ino == 1u);
  BOOST_TEST(back.parent_attr.mtime_ns == r.parent_attr.mtime_ns);
  BOOST_TEST(EncodeReply(back) == v2);
  BOOST_REQUIRE(DecodeReply(v1, &back).ok());
  BOOST_TEST(back.parent_attr.ino == 0u);
  for (size_t n = 0; n < v2.size(); n++) BOOST_TEST(!DecodeReply(v2.substr(0, n), &back).ok());
  std::string no_parent = v1 + EncodeAttr(Attr{});
  no_parent[0] = 2;
  BOOST_TEST(DecodeReply(no_parent, &back).IsCorruption());
  std::string v3 = v2;
  v3[0] = 3;
  BOOST_TEST(DecodeReply(v3, &back).IsCorruption());
}

BOOST_AUTO_TEST_CASE(rejects_bad_versions_ops_and_oversize) {
  OpRecord rec = SampleRecords()[0];
  std::string enc = EncodeOpRecord(rec);
  OpRecord back;
  std::string bad = enc;
  bad[0] = 2;  // record version
  BOOST_TEST(DecodeOpRecord(bad, &back).IsCorruption());
  bad = enc;
  bad[41] = 9;  // request version (after 1 + 5*8 stamp bytes)
  BOOST_TEST(DecodeOpRecord(bad, &back).IsCorruption());
  bad = enc;
  bad[42] = 12;  // op 12: unknown
  bad[43] = 0;
  BOOST_TEST(DecodeOpRecord(bad, &back).IsCorruption());
  // Names and symlink targets up to PATH_MAX decode (apply() answers
  // ENAMETOOLONG); longer ones, and a write of 1 MiB + 1, are malformed.
  Request r{.op = Op::kMknod, .parent = 1, .name = std::string(256, 'n')};
  Request out;
  BOOST_TEST(DecodeRequest(EncodeRequest(r), &out).ok());
  r.name = std::string(kWireNameMaxBytes + 1, 'n');
  BOOST_TEST(DecodeRequest(EncodeRequest(r), &out).IsCorruption());
  r = Request{.op = Op::kSymlink, .parent = 1, .name = "l", .data = std::string(4096, 't')};
  BOOST_TEST(DecodeRequest(EncodeRequest(r), &out).ok());
  r.data.resize(kWireNameMaxBytes + 1);
  BOOST_TEST(DecodeRequest(EncodeRequest(r), &out).IsCorruption());
  r = Request{.op = Op::kWrite, .ino = 1, .data = std::string(kWriteMaxBytes + 1, 'w')};
  BOOST_TEST(DecodeRequest(EncodeRequest(r), &out).IsCorruption());
  r.data.resize(kWriteMaxBytes);
  BOOST_TEST(DecodeRequest(EncodeRequest(r), &out).ok());
  // a reply claiming 4 billion entries is rejected without allocating them
  std::string rep;
  PutU8(&rep, 1);
  PutU32(&rep, 0);
  rep += EncodeAttr(Attr{});
  PutBytes(&rep, "");
  PutU64(&rep, 0);
  PutU32(&rep, 0xffffffffu);
  Reply rb;
  BOOST_TEST(DecodeReply(rep, &rb).IsCorruption());
}

BOOST_AUTO_TEST_CASE(random_garbage_never_crashes) {
  uint64_t seed = TestSeed(77);
  std::mt19937_64 rng(seed);
  auto samples = SampleRecords();
  std::vector<std::string> valid;
  for (auto& r : samples) valid.push_back(EncodeOpRecord(r));
  size_t accepted = 0;
  for (int i = 0; i < 200000; i++) {
    std::string in;
    if (i % 2 == 0) {  // pure garbage
      in.resize(rng() % 128);
      for (char& ch : in) ch = static_cast<char>(rng());
      if (!in.empty() && rng() % 2) in[0] = 1;
    } else {  // a valid record with a few bytes flipped, maybe truncated
      in = valid[rng() % valid.size()];
      for (int k = 0, n = 1 + rng() % 4; k < n; k++) in[rng() % in.size()] = static_cast<char>(rng());
      if (rng() % 4 == 0) in.resize(rng() % in.size());
    }
    OpRecord rec;
    Request req;
    Reply rep;
    Attr a;
    accepted += DecodeOpRecord(in, &rec).ok();
    accepted += DecodeRequest(in, &req).ok();
    accepted += DecodeReply(in, &rep).ok();
    accepted += DecodeAttr(in, &a).ok();
    if (DecodeOpRecord(in, &rec).ok()) BOOST_REQUIRE(DecodeOpRecord(EncodeOpRecord(rec), &rec).ok());
  }
  BOOST_TEST_MESSAGE("accepted " << accepted << " of 800000 decodes");
}
