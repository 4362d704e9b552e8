// FsckReport (tools/fsck_report.h).
#include "tools/fsck_report.h"

#include <cinttypes>
#include <cstdarg>

namespace baton::tools {

void FsckReport::Say(const char* fmt, ...) {
  if (json_) return;
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

void FsckReport::Error(const std::string& phase, const std::string& kind, const std::string& msg) {
  errors_.push_back({phase, kind, msg});
  if (!json_ && shown_++ < show_max_) printf("  ERROR %s %s: %s\n", phase.c_str(), kind.c_str(), msg.c_str());
}

void FsckReport::Warn(const std::string& phase, const std::string& kind, const std::string& msg) {
  warnings_.push_back({phase, kind, msg});
  if (!json_) printf("  WARNING %s %s: %s\n", phase.c_str(), kind.c_str(), msg.c_str());
}

void FsckReport::Repaired(const std::string& what) {
  repaired_.push_back(what);
  if (!json_) printf("  REPAIRED %s\n", what.c_str());
}

void FsckReport::StartRecheck() {
  if (!rechecked_) errors_before_ = errors_;
  rechecked_ = true;
  errors_.clear();
  stores_.clear();
  if (!json_ && shown_ > show_max_) printf("  ... %" PRIu64 " more (use -v)\n", shown_ - show_max_);
  shown_ = 0;
}

namespace {

void PrintFindings(const char* key, const std::vector<FsckFinding>& v) {
  printf("%s:[", JsonString(key).c_str());
  for (size_t i = 0; i < v.size(); i++)
    printf("%s{\"phase\":%s,\"kind\":%s,\"message\":%s}", i ? "," : "", JsonString(v[i].phase).c_str(),
           JsonString(v[i].kind).c_str(), JsonString(v[i].message).c_str());
  printf("]");
}

}  // namespace

int FsckReport::Finish(const std::string& volume, const std::string& uuid, uint64_t epoch, int exit_code) {
  if (!json_) {
    if (shown_ > show_max_) printf("  ... %" PRIu64 " more (use -v)\n", shown_ - show_max_);
    return exit_code;
  }
  printf("{\"volume\":%s,\"uuid\":%s,\"epoch\":%" PRIu64 ",\"exit_code\":%d,", JsonString(volume).c_str(),
         JsonString(uuid).c_str(), epoch, exit_code);
  printf("\"stores\":[");
  for (size_t i = 0; i < stores_.size(); i++)
    printf("%s{\"store\":%s,\"inodes\":%" PRIu64 ",\"applied_lsn\":%" PRIu64 ",\"problems\":%" PRIu64 "}",
           i ? "," : "", JsonString(stores_[i].label).c_str(), stores_[i].inodes, stores_[i].applied_lsn,
           stores_[i].problems);
  printf("],");
  // errors: what the check found; errors_left: what is still wrong at the
  // end (the re-check after a repair; the same list without one).
  PrintFindings("errors", rechecked_ ? errors_before_ : errors_);
  printf(",");
  PrintFindings("errors_left", errors_);
  printf(",");
  PrintFindings("warnings", warnings_);
  printf(",\"repaired\":[");
  for (size_t i = 0; i < repaired_.size(); i++) printf("%s%s", i ? "," : "", JsonString(repaired_[i]).c_str());
  printf("]}\n");
  return exit_code;
}

}  // namespace baton::tools
