#include "tools/args.h"

#include <cstdio>

#include <cerrno>
#include <cstdlib>

namespace baton::tools {

bool Args::Parse(int argc, char** argv, int first) {
  bool only_positional = false;
  for (int i = first; i < argc; i++) {
    std::string a = argv[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (flags_.count(name) && !inline_value) {
      seen_.insert(name);
    } else if (valued_.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argc) {
          error_ = "option " + name + " needs a value";
          return false;
        }
        value = argv[++i];
      }
      seen_.insert(name);
      values_[name] = value;
    } else {
      error_ = "unknown option " + a;
      return false;
    }
  }
  return true;
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

bool ParseU64(const std::string& text, uint64_t* out) {
  if (text.empty() || text[0] == '-') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0') return false;
  *out = v;
  return true;
}

bool ParseSize(const std::string& text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t mult = 1;
  std::string num = text;
  switch (text.back()) {
    case 'k': case 'K': mult = 1ull << 10; break;
    case 'm': case 'M': mult = 1ull << 20; break;
    case 'g': case 'G': mult = 1ull << 30; break;
    case 't': case 'T': mult = 1ull << 40; break;
    default: break;
  }
  if (mult != 1) num.pop_back();
  uint64_t v;
  if (!ParseU64(num, &v)) return false;
  if (v > UINT64_MAX / mult) return false;
  *out = v * mult;
  return true;
}

std::string JsonString(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c >= 0x20) o += static_cast<char>(c);
    else o += std::string("\\u00") + hex[c >> 4] + hex[c & 15];
  }
  return o + "\"";
}

int UsageError(const char* command, const std::string& why, const char* usage, int exit_code) {
  fprintf(stderr, "baton %s: %s\n%stry 'baton %s --help'\n", command, why.c_str(), usage, command);
  return exit_code;
}

}  // namespace baton::tools
