// Leveled logging to stderr, one line per message, logrotate- and
// journald-friendly: "<time> <level> <component>: message".
#pragma once

#include <cstdarg>

namespace baton {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug", "info", "warn", "error"; false if unknown.
bool ParseLogLevel(const char* s, LogLevel* out);
void LogMessage(LogLevel level, const char* component, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace baton

#define BATON_LOG(level, component, ...)                                  \
  do {                                                                    \
    if (static_cast<int>(level) >= static_cast<int>(::baton::GetLogLevel())) \
      ::baton::LogMessage(level, component, __VA_ARGS__);                 \
  } while (0)
#define LOG_DEBUG(c, ...) BATON_LOG(::baton::LogLevel::kDebug, c, __VA_ARGS__)
#define LOG_INFO(c, ...) BATON_LOG(::baton::LogLevel::kInfo, c, __VA_ARGS__)
#define LOG_WARN(c, ...) BATON_LOG(::baton::LogLevel::kWarn, c, __VA_ARGS__)
#define LOG_ERROR(c, ...) BATON_LOG(::baton::LogLevel::kError, c, __VA_ARGS__)
