// Status and StatusOr: errors as values across module boundaries.
//
// A Status carries a code and a message. Foreign error codes (errno, LMDB
// return codes) are translated into a Status exactly once, where they arise
// (base/env_posix.cc for errno, fs/meta_store.cc for LMDB). The FUSE client
// translates a Status back into an errno in exactly one function.
//
// Ignoring a Status must be explicit and greppable: call PermitUnchecked().
#pragma once

#include <cassert>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace baton {

enum class Code : int {
  kOk = 0,
  kNotFound,         // file, key or record does not exist
  kCorruption,       // bytes failed a check (checksum, magic, bounds)
  kInvalidArgument,  // caller error
  kIOError,          // an I/O call failed
  kBusy,             // resource held by someone else (volume lock)
  kFenced,           // a newer epoch exists; this process must stop writing
  kNoSpace,          // disk or map full
  kUnsupported,      // format version or feature not supported
  kEndOfLog,         // journal reader reached the end (torn tail included)
  kClosed,           // connection or object closed
  kTimeout,
  kPosix,            // a file-system error with an errno (posix_errno())
  kTooLarge,         // one unit of work exceeds a fixed limit (e.g. an LMDB transaction's dirty pages)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status Corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status IOError(std::string m, int err = 0) { return Status(Code::kIOError, std::move(m), err); }
  static Status Busy(std::string m) { return Status(Code::kBusy, std::move(m)); }
  static Status Fenced(std::string m) { return Status(Code::kFenced, std::move(m)); }
  static Status NoSpace(std::string m) { return Status(Code::kNoSpace, std::move(m), ENOSPC); }
  static Status Unsupported(std::string m) { return Status(Code::kUnsupported, std::move(m)); }
  static Status EndOfLog(std::string m = "end of log") { return Status(Code::kEndOfLog, std::move(m)); }
  static Status Closed(std::string m) { return Status(Code::kClosed, std::move(m)); }
  static Status Timeout(std::string m) { return Status(Code::kTimeout, std::move(m)); }
  static Status TooLarge(std::string m) { return Status(Code::kTooLarge, std::move(m)); }
  // A file-system level error (ENOENT, EEXIST, ...) returned by apply().
  static Status Posix(int err, std::string m = {}) { return Status(Code::kPosix, std::move(m), err); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // errno for kPosix and kIOError/kNoSpace (0 when unknown).
  int posix_errno() const { return errno_; }
  const std::string& message() const { return msg_; }
  std::string ToString() const;

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsEndOfLog() const { return code_ == Code::kEndOfLog; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsFenced() const { return code_ == Code::kFenced; }
  bool IsTooLarge() const { return code_ == Code::kTooLarge; }

  // The one explicit way to drop a Status on the floor.
  void PermitUnchecked() const {}

 private:
  Status(Code c, std::string m, int err = 0) : code_(c), errno_(err), msg_(std::move(m)) {}
  Code code_ = Code::kOk;
  int errno_ = 0;
  std::string msg_;
};

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T v) : v_(std::move(v)) {}                 // NOLINT: implicit by design
  StatusOr(Status s) : v_(std::move(s)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Return early on a non-ok Status.
#define BATON_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::baton::Status _st = (expr);            \
    if (!_st.ok()) return _st;               \
  } while (0)

#define BATON_CONCAT_INNER(a, b) a##b
#define BATON_CONCAT(a, b) BATON_CONCAT_INNER(a, b)
#define BATON_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
#define BATON_ASSIGN_OR_RETURN(lhs, expr) \
  BATON_ASSIGN_OR_RETURN_IMPL(BATON_CONCAT(_statusor_, __LINE__), lhs, expr)

}  // namespace baton
