// BigBuffer: a large, reusable byte buffer in its own anonymous mapping, with
// transparent huge pages asked for (madvise MADV_HUGEPAGE; ignored where THP
// is off). The journal reader holds a whole 64 MiB segment in one: faulting
// in fresh 4 KiB pages one by one took a third of a second per segment on a
// virtual machine (16,384 faults), 2 MiB pages take 32.
#pragma once

#include <cstddef>

#include "base/status.h"

namespace baton {

class BigBuffer {
 public:
  BigBuffer() = default;
  ~BigBuffer();
  BigBuffer(const BigBuffer&) = delete;
  BigBuffer& operator=(const BigBuffer&) = delete;

  // Room for at least n bytes. The contents are not kept when it grows.
  Status Reserve(size_t n);
  char* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  char* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace baton
