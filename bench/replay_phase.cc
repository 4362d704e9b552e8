#include "bench/replay_phase.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "base/env.h"
#include "bench/bench_util.h"
#include "fs/meta_store.h"
#include "fs/ops.h"
#include "journal/journal.h"
#include "mds/replay.h"
#include "volume/volume.h"

namespace baton::bench {

namespace {

constexpr uint64_t kAppendBatchRecords = 1024;
constexpr uint64_t kFilesPerDir = 1000;  // every 1000th record is a mkdir; the rest are files in it
constexpr uint64_t kSession = 1;

// Record i (0-based): a mkdir under the root, or a file in the latest one.
fs::OpRecord MakeRecord(uint64_t i, int64_t t0_ns) {
  fs::OpRecord r;
  r.stamp.session_id = kSession;
  r.stamp.request_id = i + 1;
  r.stamp.oldest_unreplied = i + 1;  // one request in flight, as a sequential client
  r.stamp.time_ns = t0_ns + static_cast<int64_t>(i);
  r.stamp.new_ino = 2 + i;
  uint64_t dir_record = i - i % kFilesPerDir;
  if (i == dir_record) {
    r.req.op = fs::Op::kMkdir;
    r.req.parent = fs::kRootIno;
    r.req.name = "d" + std::to_string(i / kFilesPerDir);
    r.req.mode = S_IFDIR | 0755;
  } else {
    r.req.op = fs::Op::kMknod;
    r.req.parent = 2 + dir_record;
    r.req.name = "f" + std::to_string(i);
    r.req.mode = S_IFREG | 0644;
  }
  return r;
}

Status WriteRecords(volume::Volume& vol, uint64_t epoch, uint64_t records) {
  journal::JournalOptions jo = vol.journal_options();
  jo.epoch = epoch;
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<journal::Journal> jnl, journal::Journal::Open(jo));
  int64_t t0_ns = vol.env()->NowRealtimeNanos();
  std::vector<std::string> payloads;
  std::vector<journal::RecordIn> batch;
  for (uint64_t i = 0; i < records; i += kAppendBatchRecords) {
    uint64_t end = std::min(records, i + kAppendBatchRecords);
    payloads.clear();
    batch.clear();
    for (uint64_t j = i; j < end; j++) payloads.push_back(fs::EncodeOpRecord(MakeRecord(j, t0_ns)));
    for (const std::string& p : payloads) batch.push_back({fs::kJournalTypeOp, p});
    BATON_RETURN_IF_ERROR(jnl->AppendBatch(batch).status());
  }
  return jnl->Close();
}

StatusOr<uint64_t> JournalBytes(Env* env, const std::string& dir, std::vector<std::string>* files) {
  BATON_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  uint64_t total = 0;
  for (const std::string& n : names) {
    BATON_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(dir + "/" + n));
    total += size;
    files->push_back(dir + "/" + n);
  }
  return total;
}

// The baseline: read() every file start to end into a 1 MiB buffer.
StatusOr<uint64_t> RawReadNanos(const std::vector<std::string>& files) {
  std::vector<char> buf(1 << 20);
  uint64_t start = NowNanos();
  for (const std::string& f : files) {
    int fd = ::open(f.c_str(), O_RDONLY);
    if (fd < 0) return Status::IOError("open " + f, errno);
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) {
    }
    ::close(fd);
    if (n < 0) return Status::IOError("read " + f, errno);
  }
  return NowNanos() - start;
}

Status CheckReplayed(fs::MetaStore& store, uint64_t records) {
  BATON_ASSIGN_OR_RETURN(fs::StoreState st, store.ReadState());
  if (st.applied_lsn < records || st.inode_count < records + 1)
    return Status::Corruption("after replay: applied_lsn " + std::to_string(st.applied_lsn) + ", inode_count " +
                              std::to_string(st.inode_count) + ", expected >= " + std::to_string(records));
  return Status::Ok();
}

Status TimeReplay(volume::Volume& vol, uint64_t records, ReplayResult* res) {
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<fs::MetaStore> store, fs::MetaStore::Open(vol.meta_dir(), vol.store_options()));
  uint64_t start = NowNanos();
  BATON_RETURN_IF_ERROR(mds::ReplayJournal(vol, *store));
  res->replay_ns = NowNanos() - start;
  return CheckReplayed(*store, records);
}

Status Run(const std::string& path, uint64_t records, ReplayResult* res) {
  volume::MkfsOptions mo;
  mo.meta_map_bytes = std::max<uint64_t>(4ull << 30, records * 4096);
  BATON_RETURN_IF_ERROR(volume::Volume::Create(Env::Default(), path, mo).status());
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<volume::Volume> vol, volume::Volume::Open(Env::Default(), path));
  BATON_RETURN_IF_ERROR(vol->TryLockWriter("baton_bench replay"));
  uint64_t epoch = vol->superblock().epoch + 1;
  BATON_RETURN_IF_ERROR(vol->SetEpoch(epoch));
  uint64_t start = NowNanos();
  BATON_RETURN_IF_ERROR(WriteRecords(*vol, epoch, records));
  res->write_ns = NowNanos() - start;
  res->records = records;
  std::vector<std::string> files;
  BATON_ASSIGN_OR_RETURN(res->journal_bytes, JournalBytes(vol->env(), vol->journal_dir(), &files));
  BATON_ASSIGN_OR_RETURN(res->read_ns, RawReadNanos(files));
  return TimeReplay(*vol, records, res);
}

}  // namespace

ReplayResult RunReplayBench(const std::string& volume_path, uint64_t records) {
  ReplayResult res;
  Status st = Run(volume_path, records, &res);
  if (!st.ok()) res.error = st.ToString();
  return res;
}

}  // namespace baton::bench
