#include "bench/report.h"

#include <cstdio>
#include <fstream>

namespace baton::bench {

namespace {

std::string Num(double v) {
  char buf[64];
  if (v >= 100) {
    snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    snprintf(buf, sizeof buf, "%.2f", v);
  }
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void PrintRow(const Row& r) {
  std::string clients = r.clients > 0 ? std::to_string(r.clients) : "-";
  std::string base = r.baseline > 0 ? Num(r.baseline) : "-";
  std::string ratio = r.baseline > 0 ? Num(r.ratio()) : "-";
  printf("%-9s %-22s %7s %12s %12s %-10s %7s  %s\n", r.section.c_str(), r.operation.c_str(), clients.c_str(),
         Num(r.baton).c_str(), base.c_str(), r.unit.c_str(), ratio.c_str(), r.baseline_name.c_str());
  if (!r.error.empty()) printf("          FAILED: %s\n", r.error.c_str());
}

}  // namespace

void PrintTable(const std::vector<Row>& rows, const std::vector<Target>& targets) {
  printf("\n%-9s %-22s %7s %12s %12s %-10s %7s  %s\n", "section", "operation", "clients", "BatonFS", "baseline",
         "unit", "ratio", "baseline is");
  printf("%s\n", std::string(110, '-').c_str());
  for (const Row& r : rows) PrintRow(r);
  printf("\ntargets (reported, never asserted):\n");
  for (const Target& t : targets) {
    const char* verdict = !t.measured ? "NOT MEASURED" : t.met() ? "met" : "MISSED";
    printf("  %-40s %12s  target >= %-10s %s\n", t.what.c_str(), Num(t.value).c_str(), Num(t.target).c_str(),
           verdict);
  }
  fflush(stdout);
}

bool WriteJson(const std::string& path, const std::string& command, const std::vector<Row>& rows,
               const std::vector<Target>& targets) {
  std::ofstream out(path);
  out << "{\n  \"command\": " << JsonString(command) << ",\n  \"rows\": [\n";
  for (size_t i = 0; i < rows.size(); i++) {
    const Row& r = rows[i];
    out << "    {\"section\": " << JsonString(r.section) << ", \"operation\": " << JsonString(r.operation)
        << ", \"clients\": " << r.clients << ", \"batonfs\": " << r.baton << ", \"baseline\": " << r.baseline
        << ", \"unit\": " << JsonString(r.unit) << ", \"ratio\": " << r.ratio()
        << ", \"baseline_is\": " << JsonString(r.baseline_name) << ", \"error\": " << JsonString(r.error) << "}"
        << (i + 1 < rows.size() ? ",\n" : "\n");
  }
  out << "  ],\n  \"targets\": [\n";
  for (size_t i = 0; i < targets.size(); i++) {
    const Target& t = targets[i];
    out << "    {\"what\": " << JsonString(t.what) << ", \"value\": " << t.value << ", \"target\": " << t.target
        << ", \"measured\": " << (t.measured ? "true" : "false") << ", \"met\": " << (t.met() ? "true" : "false")
        << "}" << (i + 1 < targets.size() ? ",\n" : "\n");
  }
  out << "  ]\n}\n";
  return static_cast<bool>(out);
}

}  // namespace baton::bench
