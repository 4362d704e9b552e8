// libFuzzer-friendly entry point: runs the recovery reader over arbitrary
// bytes taken as the content of segment 1 (and, from the second occurrence
// of the segment magic on, of segment 2). Must never crash, whatever the bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace baton::journal {

// Returns 0 always (libFuzzer convention). Uses a private temporary directory.
int FuzzJournalSegment(const uint8_t* data, size_t size);

}  // namespace baton::journal
