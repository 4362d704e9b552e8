// Payloads of the handshake, status and error frames, and the request prefix.
// Every encoding starts with a version byte (kMessageVersion); decoders reject
// unknown versions and malformed input with kCorruption.
// Byte layouts: docs/format/wire-protocol.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace baton::proto {

constexpr uint8_t kMessageVersion = 1;
constexpr uint32_t kClientNameMaxBytes = 256;
constexpr uint32_t kAddressMaxBytes = 256;
constexpr uint32_t kMaxAddresses = 64;
constexpr uint32_t kMessageTextMaxBytes = 4096;

enum class Role : uint8_t { kUnknown = 0, kActive = 1, kStandby = 2 };
const char* RoleName(Role r);

// HELLO: client -> MDS, the first frame of a session connection.
struct Hello {
  uint32_t protocol_version = 0;
  uint64_t session_id = 0;  // 0 = a new session; else re-open this one
  std::string client_name;
  // The highest volume epoch this client has seen (0: none). An MDS serving
  // a lower epoch was deposed: it refuses the session and checks its fence.
  uint64_t known_epoch = 0;
};

// HELLO_REPLY: MDS -> client.
struct HelloReply {
  uint32_t accepted_version = 0;
  uint64_t session_id = 0;  // the session's id (new or the re-opened one)
  uint64_t epoch = 0;
  Role role = Role::kUnknown;
  uint64_t durable_lsn = 0;
  std::vector<std::string> mds_addresses;
  std::string volume_id;  // the volume's UUID: a client never mixes MDSs of two volumes
};

// ERROR: a problem with the connection; its sender closes it after sending.
struct ErrorBody {
  uint32_t code = 0;  // baton::Code value
  std::string message;
};

// STATUS_REPLY.
struct StatusInfo {
  Role role = Role::kUnknown;
  uint64_t epoch = 0;
  uint64_t applied_lsn = 0;
  uint64_t durable_lsn = 0;
  uint64_t sessions = 0;
  std::string address;
  std::string name;                        // the MDS's name (VOLUME/mds/NAME)
  std::string active_address;              // the active MDS as this one knows it ("" if none)
  uint64_t lag = 0;                        // standby: records behind the active's durable LSN
  std::vector<std::string> mds_addresses;  // every MDS of the volume (the MDS map), active first
  std::string volume_id;                   // the volume's UUID
};

std::string EncodeHello(const Hello& h);
Status DecodeHello(std::string_view in, Hello* out);
std::string EncodeHelloReply(const HelloReply& h);
Status DecodeHelloReply(std::string_view in, HelloReply* out);
std::string EncodeErrorBody(const ErrorBody& e);
Status DecodeErrorBody(std::string_view in, ErrorBody* out);
std::string EncodeStatusInfo(const StatusInfo& s);
Status DecodeStatusInfo(std::string_view in, StatusInfo* out);

// kRequest payload: u64 oldest_unreplied, then the fs::EncodeRequest bytes.
std::string MakeRequestPayload(uint64_t oldest_unreplied, std::string_view encoded_request);
Status SplitRequestPayload(std::string_view payload, uint64_t* oldest_unreplied, std::string_view* encoded_request);

}  // namespace baton::proto
