// Frames: round trip, precise errors, and >= 100,000 seeded random and
// mutated inputs through the decoder. BATON_SEED=<n> replays a run;
// BATON_FUZZ_ITERS=<n> changes the count.
#define BOOST_TEST_MODULE proto_frame_test
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <random>

#include "base/coding.h"
#include "proto/frame.h"
#include "proto/messages.h"

using namespace baton;
using namespace baton::proto;

namespace baton::proto {
std::ostream& operator<<(std::ostream& os, FrameError e) { return os << FrameErrorName(e); }
}  // namespace baton::proto

namespace {

uint64_t SeedFromEnv() {
  const char* s = std::getenv("BATON_SEED");
  uint64_t seed = s ? std::strtoull(s, nullptr, 0) : std::random_device{}();
  BOOST_TEST_MESSAGE("seed " << seed << " (replay with BATON_SEED=" << seed << ")");
  return seed;
}

uint64_t ItersFromEnv(uint64_t dflt) {
  const char* s = std::getenv("BATON_FUZZ_ITERS");
  return s ? std::strtoull(s, nullptr, 0) : dflt;
}

Frame RandomFrame(std::mt19937_64& rng, size_t max_payload) {
  Frame f;
  f.kind = static_cast<FrameKind>(1 + rng() % kMaxFrameKind);
  f.opcode = static_cast<uint16_t>(rng());
  f.flags = static_cast<uint32_t>(rng());
  f.request_id = rng();
  f.payload.resize(rng() % (max_payload + 1));
  for (char& c : f.payload) c = static_cast<char>(rng());
  return f;
}

void ExpectSame(const Frame& a, const Frame& b) {
  BOOST_TEST(static_cast<int>(a.kind) == static_cast<int>(b.kind));
  BOOST_TEST(a.opcode == b.opcode);
  BOOST_TEST(a.flags == b.flags);
  BOOST_TEST(a.request_id == b.request_id);
  BOOST_TEST((a.payload == b.payload));
}

// Feeds everything and returns the first error (kNone if none) and the
// number of frames decoded.
FrameError DecodeAll(std::string_view bytes, size_t piece, size_t* frames) {
  FrameDecoder dec;
  *frames = 0;
  for (size_t off = 0; off < bytes.size(); off += piece) {
    dec.Feed(bytes.substr(off, piece));
    Frame f;
    for (;;) {
      StatusOr<bool> r = dec.Next(&f);
      if (!r.ok()) {
        BOOST_REQUIRE(r.status().IsCorruption());
        return dec.error();
      }
      if (!*r) break;
      ++*frames;
    }
  }
  return dec.error();
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_in_any_pieces) {
  std::mt19937_64 rng(SeedFromEnv());
  for (int round = 0; round < 200; round++) {
    std::vector<Frame> frames;
    std::string bytes;
    for (int i = 0; i < 5; i++) {
      frames.push_back(RandomFrame(rng, round == 0 ? kMaxPayloadBytes : 3000));
      AppendFrame(&bytes, frames.back());
    }
    FrameDecoder dec;
    size_t got = 0, piece = 1 + rng() % 5000;
    for (size_t off = 0; off < bytes.size(); off += piece) {
      dec.Feed(std::string_view(bytes).substr(off, piece));
      Frame f;
      for (StatusOr<bool> r = dec.Next(&f); r.ok() && *r; r = dec.Next(&f)) ExpectSame(f, frames[got++]);
    }
    BOOST_TEST(got == frames.size());
    BOOST_TEST(dec.error() == FrameError::kNone);
    BOOST_TEST(dec.buffered_bytes() == 0u);
  }
}

BOOST_AUTO_TEST_CASE(header_layout) {
  Frame f{FrameKind::kRequest, 0x0102, 0x03040506, 0x0708090a0b0c0d0eull, "xyz"};
  std::string b = EncodeFrame(f);
  BOOST_REQUIRE(b.size() == kFrameHeaderBytes + 3);
  BOOST_TEST(b.substr(0, 4) == "BTNF");
  BOOST_TEST(LoadU32(b.data() + kOffPayloadLen) == 3u);
  BOOST_TEST(LoadU16(b.data() + kOffKind) == 3u);
  BOOST_TEST(LoadU16(b.data() + kOffOpcode) == 0x0102u);
  BOOST_TEST(LoadU32(b.data() + kOffFlags) == 0x03040506u);
  BOOST_TEST(LoadU64(b.data() + kOffRequestId) == 0x0708090a0b0c0d0eull);
  BOOST_TEST(b.substr(kFrameHeaderBytes) == "xyz");
}

BOOST_AUTO_TEST_CASE(precise_errors) {
  std::string good = EncodeFrame({FrameKind::kHello, 0, 0, 7, "payload"});
  size_t n = 0;
  BOOST_TEST(DecodeAll(good, 1, &n) == FrameError::kNone);
  BOOST_TEST(n == 1u);

  std::string bad = good;
  bad[0] ^= 1;
  BOOST_TEST(DecodeAll(bad.substr(0, 4), 4, &n) == FrameError::kBadMagic);  // known from 4 bytes
  bad = good;
  StoreU32(bad.data() + kOffPayloadLen, kMaxPayloadBytes + 1);
  BOOST_TEST(DecodeAll(bad.substr(0, kFrameHeaderBytes), 7, &n) == FrameError::kTooLong);  // before any payload
  bad = good;
  StoreU32(bad.data() + kOffPayloadLen, 0xffffffffu);
  BOOST_TEST(DecodeAll(bad, 100, &n) == FrameError::kTooLong);
  bad = good;
  bad[kOffKind] = 99;
  BOOST_TEST(DecodeAll(bad, 100, &n) == FrameError::kUnknownKind);
  bad = good;
  bad[kOffKind] = 0;
  BOOST_TEST(DecodeAll(bad, 100, &n) == FrameError::kUnknownKind);
  bad = good;
  bad.back() ^= 0x40;
  BOOST_TEST(DecodeAll(bad, 3, &n) == FrameError::kBadChecksum);
  bad = good;
  bad[kOffRequestId] ^= 1;
  BOOST_TEST(DecodeAll(bad, 3, &n) == FrameError::kBadChecksum);
  // A truncated frame is no error: the decoder waits for the rest.
  BOOST_TEST(DecodeAll(good.substr(0, good.size() - 1), 5, &n) == FrameError::kNone);
  BOOST_TEST(n == 0u);
}

BOOST_AUTO_TEST_CASE(handshake_messages) {
  Hello h{kProtocolVersion, 0x1234, "tester"};
  Hello h2;
  BOOST_REQUIRE(DecodeHello(EncodeHello(h), &h2).ok());
  BOOST_TEST(h2.protocol_version == kProtocolVersion);
  BOOST_TEST(h2.session_id == 0x1234u);
  BOOST_TEST(h2.client_name == "tester");
  std::string enc = EncodeHello(h);
  enc[0] = 2;  // unknown message version
  BOOST_TEST(DecodeHello(enc, &h2).IsCorruption());
  BOOST_TEST(DecodeHello(EncodeHello(h) + "x", &h2).IsCorruption());  // trailing bytes

  HelloReply r{1, 99, 5, Role::kActive, 42, {"127.0.0.1:1", "127.0.0.1:2"}, "2fdeecc5-30cf-4e44-8569-36c5b2f84661"};
  HelloReply r2;
  BOOST_REQUIRE(DecodeHelloReply(EncodeHelloReply(r), &r2).ok());
  BOOST_TEST(r2.session_id == 99u);
  BOOST_TEST(r2.epoch == 5u);
  BOOST_TEST(r2.durable_lsn == 42u);
  BOOST_TEST(r2.mds_addresses.size() == 2u);
  BOOST_TEST(r2.mds_addresses[1] == "127.0.0.1:2");
  BOOST_TEST(r2.volume_id == r.volume_id);
  std::string cut = EncodeHelloReply(r);
  for (size_t i = 0; i < cut.size(); i++) BOOST_TEST(!DecodeHelloReply(cut.substr(0, i), &r2).ok());

  StatusInfo s, s2;
  s.role = Role::kActive;
  s.epoch = 3;
  s.applied_lsn = 10;
  s.durable_lsn = 11;
  s.sessions = 4;
  s.address = "127.0.0.1:7070";
  s.name = "mds-a";
  s.active_address = "127.0.0.1:7070";
  s.lag = 7;
  s.mds_addresses = {"127.0.0.1:7070", "127.0.0.1:7071"};
  BOOST_REQUIRE(DecodeStatusInfo(EncodeStatusInfo(s), &s2).ok());
  BOOST_TEST(s2.applied_lsn == 10u);
  BOOST_TEST(s2.sessions == 4u);
  BOOST_TEST(s2.name == "mds-a");
  BOOST_TEST(s2.lag == 7u);
  BOOST_TEST(s2.mds_addresses.size() == 2u);
  std::string scut = EncodeStatusInfo(s);
  for (size_t i = 0; i < scut.size(); i++) BOOST_TEST(!DecodeStatusInfo(scut.substr(0, i), &s2).ok());
  ErrorBody e{7, "protocol version 9 not supported"}, e2;
  BOOST_REQUIRE(DecodeErrorBody(EncodeErrorBody(e), &e2).ok());
  BOOST_TEST(e2.message == e.message);

  uint64_t oldest = 0;
  std::string_view body;
  std::string payload = MakeRequestPayload(17, "req");
  BOOST_REQUIRE(SplitRequestPayload(payload, &oldest, &body).ok());
  BOOST_TEST(oldest == 17u);
  BOOST_TEST(body == "req");
  BOOST_TEST(SplitRequestPayload("short", &oldest, &body).IsCorruption());
}

// The mutation fuzzer: each case knows which error it must produce.
BOOST_AUTO_TEST_CASE(decoder_survives_100k_mutated_inputs) {
  std::mt19937_64 rng(SeedFromEnv());
  uint64_t iters = ItersFromEnv(100000);
  uint64_t counts[6] = {};
  for (uint64_t i = 0; i < iters; i++) {
    Frame f = RandomFrame(rng, 200);
    std::string b = EncodeFrame(f);
    size_t n = 0, piece = 1 + rng() % 64;
    int mode = static_cast<int>(rng() % 6);
    counts[mode]++;
    switch (mode) {
      case 0: {  // garbage (first byte forced off the magic)
        std::string g(rng() % 300, '\0');
        for (char& c : g) c = static_cast<char>(rng());
        if (!g.empty() && g[0] == 'B') g[0] = 'x';
        FrameError e = DecodeAll(g, piece, &n);
        BOOST_REQUIRE(n == 0u);
        BOOST_REQUIRE((g.size() < 4 ? e == FrameError::kNone : e == FrameError::kBadMagic));
        FuzzFrameDecoder(reinterpret_cast<const uint8_t*>(g.data()), g.size());
        break;
      }
      case 1: {  // truncated: waits, no error, no frame
        BOOST_REQUIRE(DecodeAll(b.substr(0, rng() % b.size()), piece, &n) == FrameError::kNone);
        BOOST_REQUIRE(n == 0u);
        break;
      }
      case 2: {  // oversized length: rejected from the header alone
        StoreU32(b.data() + kOffPayloadLen, kMaxPayloadBytes + 1 + static_cast<uint32_t>(rng() % 0x7fffffff));
        BOOST_REQUIRE(DecodeAll(b.substr(0, kFrameHeaderBytes), piece, &n) == FrameError::kTooLong);
        break;
      }
      case 3: {  // one flipped bit after magic/length/kind -> bad checksum
        size_t pos = kOffOpcode + rng() % (b.size() - kOffOpcode);
        b[pos] ^= static_cast<char>(1u << (rng() % 8));
        BOOST_REQUIRE(DecodeAll(b, piece, &n) == FrameError::kBadChecksum);
        break;
      }
      case 4: {  // unknown kind
        uint16_t k = static_cast<uint16_t>(kMaxFrameKind + 1 + rng() % 60000);
        b[kOffKind] = static_cast<char>(k);
        b[kOffKind + 1] = static_cast<char>(k >> 8);
        BOOST_REQUIRE(DecodeAll(b, piece, &n) == FrameError::kUnknownKind);
        break;
      }
      case 5: {  // random mutations anywhere, including wrong-version hellos
        if (rng() % 2) {
          Hello h{static_cast<uint32_t>(rng() % 4), rng(), "x"};
          b = EncodeFrame({FrameKind::kHello, 0, 0, 0, EncodeHello(h)});
        }
        for (int k = rng() % 4; k > 0; k--) b[rng() % b.size()] = static_cast<char>(rng());
        FuzzFrameDecoder(reinterpret_cast<const uint8_t*>(b.data()), b.size());
        DecodeAll(b, piece, &n);
        BOOST_REQUIRE(n <= 1u);
        break;
      }
    }
  }
  BOOST_TEST_MESSAGE("cases per mode: " << counts[0] << " " << counts[1] << " " << counts[2] << " " << counts[3]
                                        << " " << counts[4] << " " << counts[5]);
  BOOST_TEST(iters >= 1u);
}
