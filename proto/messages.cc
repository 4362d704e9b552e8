#include "proto/messages.h"

#include "base/coding.h"
#include "proto/frame_format.h"

namespace baton::proto {

namespace {

Status Bad(const char* what) { return Status::Corruption(std::string("malformed ") + what); }

bool GetVersion(Decoder* d) {
  uint8_t v = 0;
  return d->GetU8(&v) && v == kMessageVersion;
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kActive: return "active";
    case Role::kStandby: return "standby";
    default: return "unknown";
  }
}

std::string EncodeHello(const Hello& h) {
  std::string out;
  PutU8(&out, kMessageVersion);
  PutU32(&out, h.protocol_version);
  PutU64(&out, h.session_id);
  PutBytes(&out, h.client_name);
  PutU64(&out, h.known_epoch);
  return out;
}

Status DecodeHello(std::string_view in, Hello* out) {
  Decoder d(in);
  if (!GetVersion(&d)) return Bad("hello (version)");
  d.GetU32(&out->protocol_version);
  d.GetU64(&out->session_id);
  d.GetBytes(&out->client_name, kClientNameMaxBytes);
  out->known_epoch = 0;
  if (d.remaining() > 0) d.GetU64(&out->known_epoch);  // absent from the first clients
  return d.done() ? Status::Ok() : Bad("hello");
}

std::string EncodeHelloReply(const HelloReply& h) {
  std::string out;
  PutU8(&out, kMessageVersion);
  PutU32(&out, h.accepted_version);
  PutU64(&out, h.session_id);
  PutU64(&out, h.epoch);
  PutU8(&out, static_cast<uint8_t>(h.role));
  PutU64(&out, h.durable_lsn);
  PutU32(&out, static_cast<uint32_t>(h.mds_addresses.size()));
  for (const std::string& a : h.mds_addresses) PutBytes(&out, a);
  PutBytes(&out, h.volume_id);
  return out;
}

Status DecodeHelloReply(std::string_view in, HelloReply* out) {
  Decoder d(in);
  if (!GetVersion(&d)) return Bad("hello reply (version)");
  uint8_t role = 0;
  uint32_t n = 0;
  d.GetU32(&out->accepted_version);
  d.GetU64(&out->session_id);
  d.GetU64(&out->epoch);
  d.GetU8(&role);
  d.GetU64(&out->durable_lsn);
  if (!d.GetU32(&n) || n > kMaxAddresses) return Bad("hello reply (addresses)");
  out->role = static_cast<Role>(role);
  out->mds_addresses.assign(n, {});
  for (std::string& a : out->mds_addresses) d.GetBytes(&a, kAddressMaxBytes);
  d.GetBytes(&out->volume_id, kAddressMaxBytes);
  return d.done() ? Status::Ok() : Bad("hello reply");
}

std::string EncodeErrorBody(const ErrorBody& e) {
  std::string out;
  PutU8(&out, kMessageVersion);
  PutU32(&out, e.code);
  PutBytes(&out, e.message.substr(0, kMessageTextMaxBytes));
  return out;
}

Status DecodeErrorBody(std::string_view in, ErrorBody* out) {
  Decoder d(in);
  if (!GetVersion(&d)) return Bad("error body (version)");
  d.GetU32(&out->code);
  d.GetBytes(&out->message, kMessageTextMaxBytes);
  return d.done() ? Status::Ok() : Bad("error body");
}

std::string EncodeStatusInfo(const StatusInfo& s) {
  std::string out;
  PutU8(&out, kMessageVersion);
  PutU8(&out, static_cast<uint8_t>(s.role));
  PutU64(&out, s.epoch);
  PutU64(&out, s.applied_lsn);
  PutU64(&out, s.durable_lsn);
  PutU64(&out, s.sessions);
  PutBytes(&out, s.address);
  PutBytes(&out, s.name);
  PutBytes(&out, s.active_address);
  PutU64(&out, s.lag);
  PutU32(&out, static_cast<uint32_t>(s.mds_addresses.size()));
  for (const std::string& a : s.mds_addresses) PutBytes(&out, a);
  PutBytes(&out, s.volume_id);
  return out;
}

Status DecodeStatusInfo(std::string_view in, StatusInfo* out) {
  Decoder d(in);
  if (!GetVersion(&d)) return Bad("status (version)");
  uint8_t role = 0;
  d.GetU8(&role);
  d.GetU64(&out->epoch);
  d.GetU64(&out->applied_lsn);
  d.GetU64(&out->durable_lsn);
  d.GetU64(&out->sessions);
  d.GetBytes(&out->address, kAddressMaxBytes);
  d.GetBytes(&out->name, kAddressMaxBytes);
  d.GetBytes(&out->active_address, kAddressMaxBytes);
  d.GetU64(&out->lag);
  uint32_t n = 0;
  if (!d.GetU32(&n) || n > kMaxAddresses) return Bad("status (addresses)");
  out->mds_addresses.assign(n, {});
  for (std::string& a : out->mds_addresses) d.GetBytes(&a, kAddressMaxBytes);
  d.GetBytes(&out->volume_id, kAddressMaxBytes);
  out->role = static_cast<Role>(role);
  return d.done() ? Status::Ok() : Bad("status");
}

std::string MakeRequestPayload(uint64_t oldest_unreplied, std::string_view encoded_request) {
  std::string out;
  out.reserve(kRequestPrefixBytes + encoded_request.size());
  PutU64(&out, oldest_unreplied);
  out.append(encoded_request);
  return out;
}

Status SplitRequestPayload(std::string_view payload, uint64_t* oldest_unreplied,
                           std::string_view* encoded_request) {
  if (payload.size() < kRequestPrefixBytes) return Bad("request prefix");
  *oldest_unreplied = LoadU64(payload.data());
  *encoded_request = payload.substr(kRequestPrefixBytes);
  return Status::Ok();
}

}  // namespace baton::proto
