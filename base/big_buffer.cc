#include "base/big_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace baton {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}

BigBuffer::~BigBuffer() {
  if (data_ != nullptr) ::munmap(data_, capacity_);
}

Status BigBuffer::Reserve(size_t n) {
  if (n <= capacity_) return Status::Ok();
  const size_t size = (n + kHugePage - 1) / kHugePage * kHugePage;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return Status::NoSpace("cannot map a " + std::to_string(size) + "-byte read buffer: " + std::strerror(errno));
  }
  ::madvise(p, size, MADV_HUGEPAGE);  // a hint: without THP the buffer still works
  if (data_ != nullptr) ::munmap(data_, capacity_);
  data_ = static_cast<char*>(p);
  capacity_ = size;
  return Status::Ok();
}

}  // namespace baton
