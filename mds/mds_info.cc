#include "mds/mds_info.h"

#include <unistd.h>

#include <chrono>
#include <cinttypes>
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
  char buf[768];
  int n = snprintf(buf, sizeof buf,
                   "baton-mds-info 1\nvolume=%s\nname=%s\naddress=%s\npid=%" PRIu64 "\nrole=%s\nepoch=%" PRIu64
                   "\nheartbeat=%" PRIu64 "\napplied_lsn=%" PRIu64 "\ndurable_lsn=%" PRIu64 "\nsynced_lsn=%" PRIu64
                   "\nsessions=%" PRIu64 "\nupdated_ns=%" PRId64 "\n",
                   i.volume_id.c_str(), i.name.c_str(), i.address.c_str(), i.pid, i.role.c_str(), i.epoch, i.heartbeat, i.applied_lsn,
                   i.durable_lsn, i.synced_lsn, i.sessions, i.updated_ns);
  return std::string(buf, static_cast<size_t>(n > 0 && n < static_cast<int>(sizeof buf) ? n : 0));
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
    uint64_t n = 0;
    bool num = ParseU64Text(v, &n);
    if (k == "volume") i.volume_id = v;
    else if (k == "name") i.name = v;
    else if (k == "address") i.address = v;
    else if (k == "role") i.role = v;
    else if (k == "updated_ns") i.updated_ns = static_cast<int64_t>(num ? n : 0);
    else if (!num) return Status::Corruption("MDS info: bad number for " + k);
    else if (k == "pid") i.pid = n;
    else if (k == "epoch") i.epoch = n;
    else if (k == "heartbeat") i.heartbeat = n;
    else if (k == "applied_lsn") i.applied_lsn = n;
    else if (k == "durable_lsn") i.durable_lsn = n;
    else if (k == "synced_lsn") i.synced_lsn = n;
    else if (k == "sessions") i.sessions = n;
    // unknown keys are skipped: a newer MDS may add some
  }
  *out = std::move(i);
  return Status::Ok();
}

Status MdsInfoWriter::Write(MdsInfo info) {
  if (!file_) {
    BATON_RETURN_IF_ERROR(env_->CreateDir(JoinPath(volume_, kMdsDirName)));
    BATON_RETURN_IF_ERROR(env_->CreateDir(MdsDir(volume_, name_)));
    BATON_ASSIGN_OR_RETURN(file_, env_->OpenFile(MdsInfoPath(volume_, name_), OpenOptions{.create = true}));
  }
  info.volume_id = volume_id_;
  info.name = name_;
  info.heartbeat = ++heartbeat_;
  info.updated_ns = env_->NowRealtimeNanos();
  return file_->PWrite(0, EncodeMdsInfo(info));
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
