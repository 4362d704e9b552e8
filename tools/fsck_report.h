// What `baton fsck` found and did, printed as it goes (one line per finding)
// and summed up at the end, as text or as JSON (--json). Shared by the check
// (tools/cmd_fsck.cc) and the repair (tools/fsck_repair.cc).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "tools/args.h"

namespace baton::tools {

// fsck(8) exit codes.
constexpr int kFsckOk = 0;
constexpr int kFsckCorrected = 1;
constexpr int kFsckUncorrected = 4;
constexpr int kFsckOperational = 8;
constexpr int kFsckUsage = 16;
constexpr int kFsckCancelled = 32;

struct FsckFinding {
  std::string phase;  // superblock, journal, namespace, store
  std::string kind;   // a stable name (fs/check.h kinds, journal scanner kinds, ...)
  std::string message;
};

struct FsckStoreSummary {
  std::string label;
  uint64_t inodes = 0;
  uint64_t applied_lsn = 0;
  uint64_t problems = 0;
};

class FsckReport {
 public:
  explicit FsckReport(bool json) : json_(json) {}
  bool json() const { return json_; }
  void set_show_max(uint64_t n) { show_max_ = n; }
  // A line of narration (suppressed under --json).
  void Say(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  // An error: counts towards exit 4 unless later repaired.
  void Error(const std::string& phase, const std::string& kind, const std::string& msg);
  // A notice: worth knowing, not an error (a torn journal tail).
  void Warn(const std::string& phase, const std::string& kind, const std::string& msg);
  // A change fsck --repair made (journaled or on the volume).
  void Repaired(const std::string& what);
  void AddStore(const FsckStoreSummary& s) { stores_.push_back(s); }
  // Errors of the check before any repair.
  uint64_t errors() const { return errors_.size(); }
  uint64_t repairs() const { return repaired_.size(); }
  uint64_t warnings() const { return warnings_.size(); }
  // Forget the errors found so far (the re-check after a repair reports anew).
  void StartRecheck();
  // Prints the JSON summary (under --json) and returns the exit code.
  int Finish(const std::string& volume, const std::string& uuid, uint64_t epoch, int exit_code);

 private:
  bool json_;
  bool rechecked_ = false;
  uint64_t show_max_ = 50;
  uint64_t shown_ = 0;
  std::vector<FsckFinding> errors_, warnings_, errors_before_;
  std::vector<std::string> repaired_;
  std::vector<FsckStoreSummary> stores_;
};

}  // namespace baton::tools
