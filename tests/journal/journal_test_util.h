// Helpers shared by the journal tests.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "base/env.h"
#include "journal/journal.h"
#include "journal/journal_format.h"

namespace baton::journal::testing {

// A fresh directory under /tmp, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/baton-journal-test-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline VolumeId MakeVolumeId(uint8_t tag) {
  VolumeId v;
  for (int i = 0; i < 16; i++) v.bytes[i] = static_cast<uint8_t>(tag * 31 + i);
  return v;
}

inline JournalOptions MakeOptions(Env* env, const std::string& dir, uint64_t epoch = 1, uint8_t vol_tag = 1) {
  JournalOptions o;
  o.env = env;
  o.dir = dir;
  o.volume_id = MakeVolumeId(vol_tag);
  o.epoch = epoch;
  return o;
}

// Seed from BATON_TEST_SEED if set, else from the clock; always printed.
inline uint64_t TestSeed(const char* test) {
  const char* env = std::getenv("BATON_TEST_SEED");
  uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 0) : std::random_device{}();
  std::fprintf(stderr, "%s: seed %llu (rerun with BATON_TEST_SEED=%llu)\n", test,
               static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

struct ReadResult {
  Status open_status;
  std::vector<Record> records;
  Status end;  // the status that ended the read
  uint64_t next_lsn = 0;
};

inline ReadResult ReadAll(Env* env, const std::string& dir, const VolumeId& vol, uint64_t from_lsn = 0) {
  ReadResult r;
  auto reader = JournalReader::Open(env, dir, vol, from_lsn);
  r.open_status = reader.status();
  if (!reader.ok()) return r;
  Record rec;
  while ((r.end = (*reader)->Next(&rec)).ok()) r.records.push_back(rec);
  r.next_lsn = (*reader)->next_lsn();
  return r;
}

inline std::string SegPath(const std::string& dir, uint64_t seq) {
  return dir + "/" + format::SegmentFileName(seq);
}

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Segment seqs present in dir, ascending.
inline std::vector<uint64_t> SegmentSeqs(const std::string& dir) {
  std::vector<uint64_t> seqs;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    uint64_t seq;
    if (format::ParseSegmentFileName(e.path().filename().string(), &seq)) seqs.push_back(seq);
  }
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

inline void CopyDir(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(to);
  for (const auto& e : std::filesystem::directory_iterator(from)) {
    std::filesystem::copy_file(e.path(), to + "/" + e.path().filename().string(),
                               std::filesystem::copy_options::overwrite_existing);
  }
}

inline std::string Payload(uint64_t lsn, size_t size) {
  std::string p(size, '\0');
  for (size_t i = 0; i < size; i++) p[i] = static_cast<char>((lsn * 131 + i * 7) & 0xff);
  return p;
}

// Creates a journal in dir and appends `count` records with payload
// Payload(i, size) for the i-th (1-based) record.
inline Status WriteJournal(const JournalOptions& o, int count, size_t size = 100) {
  BATON_RETURN_IF_ERROR(Journal::Create(o));
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<Journal> j, Journal::Open(o));
  for (int i = 1; i <= count; i++) {
    BATON_ASSIGN_OR_RETURN(uint64_t lsn, j->Append(7, Payload(j->next_lsn(), size)));
    (void)lsn;
  }
  return j->Close();
}

}  // namespace baton::journal::testing
