#include "journal/journal_fuzz.h"

#include <unistd.h>

#include <cassert>
#include <string>

#include "base/coding.h"
#include "base/env.h"
#include "journal/journal.h"
#include "journal/journal_format.h"

namespace baton::journal {

namespace {

// A scratch directory for this process, removed with its segments at exit.
class FuzzDirectory {
 public:
  FuzzDirectory() : path_("/tmp/baton-journal-fuzz-" + std::to_string(::getpid())) {
    Env::Default()->CreateDir(path_).PermitUnchecked();
  }
  ~FuzzDirectory() {
    Env* env = Env::Default();
    for (uint64_t seq : {1, 2}) env->RemoveFile(JoinPath(path_, format::SegmentFileName(seq))).PermitUnchecked();
    env->RemoveDir(path_).PermitUnchecked();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string& FuzzDir() {
  static const FuzzDirectory dir;
  return dir.path();
}

void WriteSegment(Env* env, const std::string& dir, uint64_t seq, std::string_view bytes) {
  auto file = env->OpenFile(JoinPath(dir, format::SegmentFileName(seq)), {.create = true, .truncate = true});
  assert(file.ok());
  (*file)->PWrite(0, bytes).PermitUnchecked();
  (*file)->Close().PermitUnchecked();
}

}  // namespace

int FuzzJournalSegment(const uint8_t* data, size_t size) {
  Env* env = Env::Default();
  const std::string& dir = FuzzDir();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The volume id is the one a segment header at the start would carry, so
  // the reader gets past the header check for inputs that look like segments.
  VolumeId vol;
  if (size >= format::kSegVolumeIdOffset + 16) {
    for (int i = 0; i < 16; i++) vol.bytes[i] = data[format::kSegVolumeIdOffset + i];
  }
  // A second segment starts at the next segment magic after offset 0, so a
  // concatenation of two segment files is read as two segments.
  std::string magic;
  PutU64(&magic, format::kSegmentMagic);
  size_t split = size > 0 ? bytes.find(magic, 1) : std::string_view::npos;
  if (split == std::string_view::npos) split = size;
  WriteSegment(env, dir, 1, bytes.substr(0, split));
  if (split < size) {
    WriteSegment(env, dir, 2, bytes.substr(split));
  } else {
    env->RemoveFile(JoinPath(dir, format::SegmentFileName(2))).PermitUnchecked();
  }
  auto reader = JournalReader::Open(env, dir, vol, 0);
  if (reader.ok()) {
    Record rec;
    for (int i = 0; i < 1000000 && (*reader)->Next(&rec).ok(); i++) {
    }
    (void)(*reader)->next_lsn();
  }
  return 0;
}

}  // namespace baton::journal
