#include "mds/mds_info.h"

#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "base/checksum.h"

namespace baton::mds {

namespace {

constexpr uint64_t kInfoSeed = 0x6F666E6973646D62ull;  // "bmdsinfo"
constexpr const char* kInfoFileName = "info";

bool ParseU64Text(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

std::string Body(const MdsInfo& i) {
  std::string b = "baton-mds-info 1\n";
  auto line = [&b](const char* k, const std::string& v) { b += std::string(k) + "=" + v + "\n"; };
  line("volume", i.volume_id);
  line("name", i.name);
  line("address", i.address);
  line("pid", std::to_string(i.pid));
  line("role", i.role);
  line("epoch", std::to_string(i.epoch));
  line("heartbeat", std::to_string(i.heartbeat));
  line("applied_lsn", std::to_string(i.applied_lsn));
  line("durable_lsn", std::to_string(i.durable_lsn));
  line("synced_lsn", std::to_string(i.synced_lsn));
  line("sessions", std::to_string(i.sessions));
  line("updated_ns", std::to_string(i.updated_ns));
  return b;
}

}  // namespace

std::string MdsDir(const std::string& volume, const std::string& name) {
  return JoinPath(JoinPath(volume, kMdsDirName), name);
}
std::string MdsInfoPath(const std::string& volume, const std::string& name) {
  return JoinPath(MdsDir(volume, name), kInfoFileName);
}

bool ValidMdsName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string DefaultMdsName(const std::string& addr) {
  std::string out;
  for (char c : addr) out += (c == ':' || c == '/' || c == '[' || c == ']') ? '-' : c;
  return ValidMdsName(out) ? out : "mds";
}

std::string EncodeMdsInfo(const MdsInfo& info) {
  std::string body = Body(info);
  char sum[40];
  snprintf(sum, sizeof sum, "checksum=%016" PRIx64 "\n", Checksum64(body, kInfoSeed));
  std::string out = body + sum;
  if (out.size() > kMdsInfoBytes) return "";  // fields too long for the file
  out.resize(kMdsInfoBytes, '\0');
  return out;
}

Status DecodeMdsInfo(const std::string& bytes, MdsInfo* out) {
  size_t end = bytes.find('\0');
  std::string text = bytes.substr(0, end);
  size_t cpos = text.rfind("checksum=");
  if (text.rfind("baton-mds-info 1\n", 0) != 0 || cpos == std::string::npos)
    return Status::Corruption("not an MDS info file");
  std::string body = text.substr(0, cpos);
  char want[40];
  snprintf(want, sizeof want, "checksum=%016" PRIx64 "\n", Checksum64(body, kInfoSeed));
  if (text.substr(cpos) != want) return Status::Corruption("MDS info checksum mismatch");
  MdsInfo i;
  size_t pos = body.find('\n') + 1;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string line = body.substr(pos, nl - pos);
    pos = nl + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos) return Status::Corruption("MDS info line without '='");
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "volume") {
      i.volume_id = v;
      continue;
    }
    if (k == "name" || k == "address" || k == "role") {
      (k == "name" ? i.name : k == "address" ? i.address : i.role) = v;
      continue;
    }
    uint64_t* field = k == "pid"           ? &i.pid
                      : k == "epoch"       ? &i.epoch
                      : k == "heartbeat"   ? &i.heartbeat
                      : k == "applied_lsn" ? &i.applied_lsn
                      : k == "durable_lsn" ? &i.durable_lsn
                      : k == "synced_lsn"  ? &i.synced_lsn
                      : k == "sessions"    ? &i.sessions
                                           : nullptr;
    uint64_t n = 0;
    if (k == "updated_ns") {
      if (!ParseU64Text(v, &n) || n > static_cast<uint64_t>(INT64_MAX))
        return Status::Corruption("MDS info: bad number for " + k);
      i.updated_ns = static_cast<int64_t>(n);
    } else if (field != nullptr) {
      if (!ParseU64Text(v, &n)) return Status::Corruption("MDS info: bad number for " + k);
      *field = n;
    }
    // other keys are skipped, whatever their value: a newer MDS may add some
  }
  *out = std::move(i);
  return Status::Ok();
}

Status MdsInfoWriter::Write(MdsInfo info) {
  // Readers find the file by its path: a file removed under us is made again
  // (writing to an unlinked file would look like a heartbeat to no one).
  if (file_ && !env_->FileExists(MdsInfoPath(volume_, name_))) {
    file_->Close().PermitUnchecked();
    file_.reset();
  }
  if (!file_) {
    BATON_RETURN_IF_ERROR(env_->CreateDir(JoinPath(volume_, kMdsDirName)));
    BATON_RETURN_IF_ERROR(env_->CreateDir(MdsDir(volume_, name_)));
    BATON_ASSIGN_OR_RETURN(file_, env_->OpenFile(MdsInfoPath(volume_, name_), OpenOptions{.create = true}));
  }
  info.volume_id = volume_id_;
  info.name = name_;
  info.heartbeat = ++heartbeat_;
  info.updated_ns = env_->NowRealtimeNanos();
  std::string bytes = EncodeMdsInfo(info);
  if (bytes.empty()) return Status::InvalidArgument("MDS info of " + name_ + " does not fit in " +
                                                    std::to_string(kMdsInfoBytes) + " bytes (address too long?)");
  return file_->PWrite(0, bytes);
}

StatusOr<MdsInfo> ReadMdsInfo(Env* env, const std::string& volume, const std::string& name,
                              const std::string& volume_id) {
  Status last = Status::NotFound("no info file for MDS " + name);
  for (int attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    StatusOr<std::string> bytes = ReadWholeFile(env, MdsInfoPath(volume, name));
    if (!bytes.ok()) return bytes.status();
    MdsInfo info;
    last = DecodeMdsInfo(*bytes, &info);
    if (last.ok() && !volume_id.empty() && info.volume_id != volume_id)
      return Status::Corruption("MDS info " + MdsInfoPath(volume, name) + " belongs to volume " + info.volume_id +
                                ", not " + volume_id);
    if (last.ok()) return info;
  }
  return last;
}

std::vector<MdsInfo> ListMdsInfos(Env* env, const std::string& volume, const std::string& volume_id) {
  std::vector<MdsInfo> out;
  StatusOr<std::vector<std::string>> names = env->ListDir(JoinPath(volume, kMdsDirName));
  if (!names.ok()) return out;
  for (const std::string& n : *names) {
    if (!ValidMdsName(n)) continue;
    StatusOr<MdsInfo> i = ReadMdsInfo(env, volume, n, volume_id);
    if (i.ok()) out.push_back(std::move(*i));
  }
  return out;
}

}  // namespace baton::mds
