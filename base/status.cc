#include "base/status.h"

#include <cstring>

namespace baton {

namespace {
const char* CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "not found";
    case Code::kCorruption: return "corruption";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kIOError: return "I/O error";
    case Code::kBusy: return "busy";
    case Code::kFenced: return "fenced";
    case Code::kNoSpace: return "no space";
    case Code::kUnsupported: return "unsupported";
    case Code::kEndOfLog: return "end of log";
    case Code::kClosed: return "closed";
    case Code::kTimeout: return "timeout";
    case Code::kPosix: return "error";
    case Code::kTooLarge: return "too large";
  }
  return "unknown";
}
}  // namespace

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = CodeName(code_);
  if (!msg_.empty()) s += ": " + msg_;
  if (errno_ != 0) {
    s += " (";
    s += std::strerror(errno_);
    s += ")";
  }
  return s;
}

}  // namespace baton
