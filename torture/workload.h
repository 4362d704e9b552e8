// Workloads of the crash-torture harness (issue 5, item 4): file-system
// operations on a tiny namespace, in the style of ACE (Mohan et al.,
// "Finding crash-consistency bugs with bounded black-box crash testing",
// OSDI 2018): every sequence of 1, 2 (and, in the long run, 3) operations
// from a fixed catalogue, each followed by fsync, fdatasync, fsyncdir or
// nothing; and seeded random workloads (fsstress-like) for long runs.
//
// A step names paths; the harness resolves them against the live metadata
// store when it runs (a step whose path does not resolve is what an
// application would see fail with ENOENT at lookup: nothing is sent).
#pragma once

#include <functional>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "fs/meta_store.h"
#include "fs/ops.h"

namespace baton::torture {

enum class StepOp : uint8_t {
  kCreat,
  kWrite,      // offset, length, fill
  kAppend,     // length, fill (O_APPEND)
  kTruncate,   // length = new size
  kLink,       // path -> path2
  kUnlink,
  kRename,     // path -> path2 (replacing path2 if it exists)
  kMkdir,
  kRmdir,
  kSymlink,    // path2 = link, path = target text
  kSetxattr,   // name in path2, value of `length` bytes of fill
  kRemovexattr,
  kFallocate,  // offset, length; flags = fallocate mode
};

enum class Persist : uint8_t { kNone, kFsync, kFdatasync, kFsyncDir };

struct Step {
  StepOp op = StepOp::kCreat;
  std::string path, path2;
  uint64_t offset = 0, length = 0;
  uint32_t flags = 0;
  uint8_t fill = 0;
  Persist persist = Persist::kNone;
};

std::string DescribeStep(const Step& s);
std::string DescribeWorkload(const std::vector<Step>& w);

// The namespace every workload starts from (made, applied and synced before
// recording): /A, /B, /A/C directories; /A/foo (8 KiB), /A/bar (100 bytes,
// xattr user.y).
std::vector<Step> SetupSteps();

// The ACE catalogue: each operation once, without persistence.
std::vector<Step> AceOps();
// All workloads of n steps from the catalogue; each step followed by each
// persistence in `persists`.
std::vector<std::vector<Step>> AceWorkloads(int n, const std::vector<Persist>& persists);
// A random workload of n steps over a small namespace (/A, /B, /A/C, ...),
// reproducible from the seed.
std::vector<Step> RandomWorkload(uint64_t seed, size_t n);

// The bytes a write step writes.
std::string StepData(const Step& s);

// The requests a step sends, resolved against the store (root credentials).
// Empty when a path does not resolve. The persistence step, if any, is last
// (a kFsync of the file, or of its directory for kFsyncDir).
std::vector<fs::Request> ResolveStep(fs::MetaStore& store, const Step& s);
// The same through any query path (e.g. mds::Sequencer::Query, which sees
// what was applied but not yet committed to the store).
using QueryFn = std::function<fs::Reply(const fs::Request&)>;
QueryFn StoreQuery(fs::MetaStore& store);  // fs::Query: the committed store
std::vector<fs::Request> ResolveStep(const QueryFn& query, const Step& s);

// A canonical text of the namespace reachable from the root: every path with
// its type, mode, owner, link count, size, times, data digest, symlink target
// and xattrs. Two stores with equal views hold the same file system as an
// application sees it (orphans and the exactly-once table aside).
StatusOr<std::string> NamespaceView(fs::MetaStore& store);
StatusOr<std::string> NamespaceView(const QueryFn& query);

}  // namespace baton::torture
