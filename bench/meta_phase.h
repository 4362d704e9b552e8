// The metadata phases: the same operations through the MDS (one
// client::Client session and one directory per client thread) and on the
// local file system (one directory per thread), timed side by side.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "fs/ops.h"

namespace baton::bench {

enum class MetaOp {
  kCreate,       // MDS: kMknod S_IFREG     local: open(O_CREAT|O_EXCL) + close
  kStat,         // MDS: kLookup            local: stat
  kUnlink,       // MDS: kUnlink            local: unlink
  kCreateFsync,  // MDS: kMknod + kWrite 4 KiB + kFsync   local: open + write + fsync + close
};
const char* MetaOpName(MetaOp op);

struct PhaseResult {
  uint64_t ops = 0;  // operations completed (a create+write+fsync counts as one)
  uint64_t elapsed_ns = 0;
  std::string error;  // first failure, empty if none
  double ops_per_s() const { return elapsed_ns ? static_cast<double>(ops) * 1e9 / elapsed_ns : 0.0; }
};

// One client session per thread, each with its own directory under the root.
struct BatonClients {
  std::vector<std::unique_ptr<client::Client>> sessions;
  std::vector<fs::Ino> dirs;
};
// Connects n sessions to addr and makes directory <prefix>-<i> for each.
bool ConnectClients(const std::string& addr, int n, const std::string& prefix, BatonClients* out,
                    std::string* error);
PhaseResult RunBatonPhase(BatonClients& clients, MetaOp op, uint64_t total_ops);

// Makes directory parent/<prefix>-<i> for each of n threads.
bool MakeLocalDirs(const std::string& parent, int n, const std::string& prefix, std::vector<std::string>* out,
                   std::string* error);
PhaseResult RunLocalPhase(const std::vector<std::string>& dirs, MetaOp op, uint64_t total_ops);

// Context: mean latency in ns of a 4 KiB O_DSYNC pwrite (what `dd oflag=dsync
// bs=4k` measures) in dir, over count writes; 0 on failure.
double DsyncWriteLatencyNs(const std::string& dir, int count);

}  // namespace baton::bench
