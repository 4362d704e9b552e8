// A small command-line parser for the `baton` subcommands: long options
// (--name VALUE, --name=VALUE), boolean flags, short aliases and positionals.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace baton::tools {

class Args {
 public:
  // `flags`: options without a value; `valued`: options taking one value.
  // Names are given with their dashes ("--force", "-f").
  Args(std::set<std::string> flags, std::set<std::string> valued) : flags_(std::move(flags)), valued_(std::move(valued)) {}
  // False with error() set on an unknown option or a missing value.
  bool Parse(int argc, char** argv, int first);
  bool Has(const std::string& name) const { return seen_.count(name) > 0; }
  std::optional<std::string> Get(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& error() const { return error_; }

 private:
  std::set<std::string> flags_, valued_;
  std::set<std::string> seen_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

// "64M", "1G", "4096", "512K" -> bytes. False if malformed.
bool ParseSize(const std::string& text, uint64_t* out);
bool ParseU64(const std::string& text, uint64_t* out);
// A usage error of `baton COMMAND`: "baton COMMAND: why", the short usage
// line(s) and "try 'baton COMMAND --help'" on stderr; returns exit_code.
int UsageError(const char* command, const std::string& why, const char* usage, int exit_code);
// A JSON string literal: quotes, backslashes and control characters escaped.
std::string JsonString(const std::string& s);

}  // namespace baton::tools
