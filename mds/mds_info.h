// The MDS map on the volume: every MDS of a volume publishes what it is in
// its own small file, VOLUME/mds/NAME/info, and reads the others' files.
//
// The file is rewritten in place (one pwrite of kMdsInfoBytes) several times
// a second: by the active as its heartbeat, by a standby to report how far it
// has followed the journal. Each version carries an xxHash3-64 checksum, so a
// reader that races a write sees a bad checksum and retries; nothing else
// depends on it being synced (it is liveness information, never data).
// Layout: docs/FORMAT.md ("mds/NAME/info").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace baton::mds {

inline constexpr size_t kMdsInfoBytes = 1024;
inline constexpr const char* kMdsDirName = "mds";

struct MdsInfo {
  std::string volume_id;      // the volume's UUID (volume::FormatVolumeId): an info file copied from
                              // another volume is never trusted (DESIGN invariant 6)
  std::string name;
  std::string address;        // where it listens (clients, baton status)
  uint64_t pid = 0;
  std::string role;           // "active", "standby", "starting", "stopped"
  uint64_t epoch = 0;         // active: its epoch; others: the newest epoch they saw
  uint64_t heartbeat = 0;     // raised by every write
  uint64_t applied_lsn = 0;   // applied to its own metadata store
  uint64_t durable_lsn = 0;   // active: journal durable (and fence-checked); standby: the active's, as last read
  uint64_t synced_lsn = 0;    // its store durably holds every record up to here (journal trim bound)
  uint64_t sessions = 0;
  int64_t updated_ns = 0;     // realtime of this write
};

// VOLUME/mds/NAME and VOLUME/mds/NAME/info.
std::string MdsDir(const std::string& volume, const std::string& name);
std::string MdsInfoPath(const std::string& volume, const std::string& name);

// A name is 1..64 bytes of [A-Za-z0-9._-] (it becomes a directory name).
bool ValidMdsName(const std::string& name);
// The default name for an MDS listening on addr: "127.0.0.1:7070" -> "127.0.0.1-7070".
std::string DefaultMdsName(const std::string& addr);

std::string EncodeMdsInfo(const MdsInfo& info);  // exactly kMdsInfoBytes; "" if the fields do not fit
Status DecodeMdsInfo(const std::string& bytes, MdsInfo* out);

// Rewrites one MDS's info file in place (created on first use).
class MdsInfoWriter {
 public:
  MdsInfoWriter(Env* env, std::string volume, std::string name, std::string volume_id = "")
      : env_(env), volume_(std::move(volume)), name_(std::move(name)), volume_id_(std::move(volume_id)) {}
  Status Write(MdsInfo info);  // stamps volume id, name, heartbeat and updated_ns

 private:
  Env* env_;
  std::string volume_, name_, volume_id_;
  std::unique_ptr<File> file_;
  uint64_t heartbeat_ = 0;
};

// Reads one info file, retrying a torn read a few times. With volume_id
// given, a file naming another volume is kCorruption.
StatusOr<MdsInfo> ReadMdsInfo(Env* env, const std::string& volume, const std::string& name,
                              const std::string& volume_id = "");
// Every MDS that ever published on this volume (unreadable files, and with
// volume_id given files of another volume, skipped).
std::vector<MdsInfo> ListMdsInfos(Env* env, const std::string& volume, const std::string& volume_id = "");

}  // namespace baton::mds
