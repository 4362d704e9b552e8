#include "bench/fuse/report.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/fuse/stats.h"

namespace baton::fusebench {
namespace {

struct Cell {
  bool present = false;
  double median = 0;
  size_t rounds = 0;
};

Cell CellOf(const Samples& samples, const std::string& target, const std::string& metric) {
  Cell cell;
  const auto t = samples.find(target);
  if (t == samples.end()) return cell;
  const auto m = t->second.find(metric);
  if (m == t->second.end() || m->second.empty()) return cell;
  cell.present = true;
  cell.median = Median(m->second);
  cell.rounds = m->second.size();
  return cell;
}

std::string Number(double v) {
  char buf[64];
  if (v >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    std::string s = buf, out;
    for (size_t i = 0; i < s.size(); ++i) {  // thousands separators
      if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
      out += s[i];
    }
    return out;
  }
  std::snprintf(buf, sizeof buf, v >= 10 ? "%.1f" : "%.2f", v);
  return buf;
}

// Ratio baton / passthrough, if both were measured.
bool RatioOf(const Samples& samples, const MetricInfo& m, double* ratio) {
  const Cell b = CellOf(samples, "baton", m.name), p = CellOf(samples, "passthrough", m.name);
  if (!b.present || !p.present || p.median <= 0) return false;
  *ratio = b.median / p.median;
  return true;
}

std::string TargetText(const Samples& samples, const MetricInfo& m) {
  if (m.target_ratio <= 0) return "";
  double ratio = 0;
  char buf[64];
  const bool measured = RatioOf(samples, m, &ratio);
  std::snprintf(buf, sizeof buf, ">= %.1f %s", m.target_ratio,
                !measured ? "not measured" : ratio >= m.target_ratio ? "met" : "MISSED");
  return buf;
}

void PrintTable(const Samples& samples, const ReportOptions& options) {
  std::printf("%-34s %-6s", "workload (median)", "unit");
  for (const std::string& t : options.targets) std::printf(" %12s", t.c_str());
  std::printf(" %12s  %s\n", "baton/pt", "target");
  for (const MetricInfo& m : Metrics()) {
    std::printf("%-34s %-6s", m.label, m.unit);
    for (const std::string& t : options.targets) {
      const Cell c = CellOf(samples, t, m.name);
      std::printf(" %12s", c.present ? Number(c.median).c_str() : "-");
    }
    double ratio = 0;
    std::printf(" %12s  %s\n", RatioOf(samples, m, &ratio) ? Number(ratio).c_str() : "-",
                TargetText(samples, m).c_str());
  }
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string JsonRow(const Samples& samples, const ReportOptions& options, const MetricInfo& m) {
  std::ostringstream os;
  os.precision(10);
  os << "    {\"metric\": " << JsonString(m.name) << ", \"label\": " << JsonString(m.label)
     << ", \"unit\": " << JsonString(m.unit);
  for (const std::string& t : options.targets) {
    const Cell c = CellOf(samples, t, m.name);
    os << ", " << JsonString(t) << ": ";
    if (c.present) os << c.median; else os << "null";
    os << ", " << JsonString(t + "_rounds") << ": " << c.rounds;
  }
  double ratio = 0;
  os << ", \"ratio_baton_passthrough\": ";
  if (RatioOf(samples, m, &ratio)) os << ratio; else os << "null";
  if (m.target_ratio > 0) {
    os << ", \"target_ratio\": " << m.target_ratio << ", \"target_met\": "
       << (RatioOf(samples, m, &ratio) && ratio >= m.target_ratio ? "true" : "false");
  }
  os << "}";
  return os.str();
}

bool WriteJson(const Samples& samples, const ReportOptions& options) {
  std::ofstream out(options.json_path);
  out << "{\n  \"command\": " << JsonString(options.command) << ",\n  \"machine\": " << JsonString(options.machine)
      << ",\n  \"rows\": [\n";
  const auto& metrics = Metrics();
  for (size_t i = 0; i < metrics.size(); ++i) {
    out << JsonRow(samples, options, metrics[i]) << (i + 1 < metrics.size() ? ",\n" : "\n");
  }
  out << "  ]\n}\n";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

const std::vector<MetricInfo>& Metrics() {
  static const std::vector<MetricInfo> kMetrics = {
      {"create_ops_s", "create empty file (open+close)", "ops/s", 0.5},
      {"stat_ops_s", "stat", "ops/s", 0.8},
      {"unlink_ops_s", "unlink", "ops/s", 0},
      {"mkdir_ops_s", "mkdir", "ops/s", 0},
      {"rmdir_ops_s", "rmdir", "ops/s", 0},
      {"fsync_files_s", "create+write 4K+fsync+close", "files/s", 1.0},
      {"fsync_p50_us", "  latency p50", "us", 0},
      {"fsync_p99_us", "  latency p99", "us", 0},
      {"seq_write_MiBps", "fio seq write 1M (+end fsync)", "MiB/s", 0.5},
      {"seq_read_MiBps", "fio seq read 1M", "MiB/s", 0.7},
      {"rand_write_iops", "fio rand write 4K", "IOPS", 0},
      {"rand_read_iops", "fio rand read 4K", "IOPS", 0},
  };
  return kMetrics;
}

bool ParseSamples(std::istream& in, Samples* samples, std::string* error) {
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string target, metric, rest;
    double value = 0;
    if (!(fields >> target)) continue;  // blank or comment
    if (!(fields >> metric >> value) || (fields >> rest) || !std::isfinite(value) || value < 0) {
      *error = "line " + std::to_string(line_no) + ": expected 'TARGET METRIC VALUE', got '" + line + "'";
      return false;
    }
    (*samples)[target][metric].push_back(value);
  }
  return true;
}

int Report(const Samples& samples, const ReportOptions& options) {
  PrintTable(samples, options);
  int missing = 0;
  for (const std::string& t : options.targets) {
    for (const MetricInfo& m : Metrics()) {
      if (CellOf(samples, t, m.name).present) continue;
      std::fprintf(stderr, "missing: %s %s\n", t.c_str(), m.name);
      ++missing;
    }
  }
  if (!options.json_path.empty() && !WriteJson(samples, options)) {
    std::fprintf(stderr, "cannot write %s\n", options.json_path.c_str());
    return -1;
  }
  return missing;
}

}  // namespace baton::fusebench
