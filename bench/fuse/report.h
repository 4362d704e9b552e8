// The FUSE bench's result table. Samples come as text lines
//   TARGET METRIC VALUE        (e.g. "baton create_ops_s 812.5"; '#' starts a comment)
// one per measured round, from baton_fuse_bench run and from run.sh's fio
// jobs. The report takes the median of each (target, metric), prints the
// absolute numbers of every target, the ratio baton / passthrough, and which
// of the targets are met. It never judges time: a missed target is
// reported, not an error. It is an error only that a sample is missing.
#pragma once

#include <istream>
#include <map>
#include <string>
#include <vector>

namespace baton::fusebench {

struct MetricInfo {
  const char* name;   // as in the sample lines
  const char* label;  // for the table
  const char* unit;
  double target_ratio;  // baton / passthrough >= this; 0 = no target
};
// Every metric, in table order.
const std::vector<MetricInfo>& Metrics();

// samples[target][metric] = one value per round.
using Samples = std::map<std::string, std::map<std::string, std::vector<double>>>;
// Parses sample lines; false (with *error naming the line) on a malformed one.
bool ParseSamples(std::istream& in, Samples* samples, std::string* error);

struct ReportOptions {
  std::vector<std::string> targets = {"local", "passthrough", "baton"};
  std::string command;  // recorded in the JSON
  std::string machine;
  std::string json_path;  // empty: no JSON
};

// Prints the table to stdout (and writes JSON if asked). Returns the number
// of (target, metric) cells without a sample (listed on stderr), or -1 if
// the JSON could not be written.
int Report(const Samples& samples, const ReportOptions& options);

}  // namespace baton::fusebench
