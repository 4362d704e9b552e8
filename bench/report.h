// The result table: absolute numbers for BatonFS and its baseline, and the
// ratio BatonFS / baseline. Printed as text and optionally written as JSON.
#pragma once

#include <string>
#include <vector>

namespace baton::bench {

struct Row {
  std::string section;    // "metadata", "fsync", "replay", "context"
  std::string operation;  // "create", "stat", ...
  int clients = 0;        // 0 where not applicable
  double baton = 0;       // BatonFS value
  double baseline = 0;    // baseline value (0: none)
  std::string unit;       // "ops/s", "MB/s", ...
  std::string baseline_name;
  std::string error;      // non-empty: the phase failed (values partial)
  double ratio() const { return baseline > 0 ? baton / baseline : 0; }
};

struct Target {
  std::string what;
  double value = 0;
  double target = 0;
  bool measured = false;
  bool met() const { return measured && value >= target; }
};

void PrintTable(const std::vector<Row>& rows, const std::vector<Target>& targets);
// Returns false if the file could not be written.
bool WriteJson(const std::string& path, const std::string& command, const std::vector<Row>& rows,
               const std::vector<Target>& targets);

}  // namespace baton::bench
