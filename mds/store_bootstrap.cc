#include "mds/store_bootstrap.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "base/log.h"
#include "journal/journal_tail.h"
#include "mds/mds_info.h"

namespace baton::mds {

namespace {

struct Candidate {
  std::string dir;
  uint64_t applied_lsn = 0;
};

bool Covered(uint64_t applied_lsn, uint64_t journal_first) {
  return journal_first == 0 || journal_first <= applied_lsn + 1;
}

Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::IOError("fsync " + path, err);
}

// The most advanced store other than `own_dir` that the journal continues.
StatusOr<Candidate> BestSource(volume::Volume& vol, const std::string& own_dir, uint64_t journal_first) {
  std::vector<std::string> dirs{vol.meta_dir()};
  StatusOr<std::vector<std::string>> names = vol.env()->ListDir(JoinPath(vol.path(), kMdsDirName));
  if (names.ok()) {
    for (const std::string& n : *names) {
      if (ValidMdsName(n)) dirs.push_back(JoinPath(MdsDir(vol.path(), n), "meta"));
    }
  }
  Candidate best;
  bool found = false;
  std::string seen;
  for (const std::string& d : dirs) {
    if (d == own_dir) continue;
    StatusOr<std::unique_ptr<fs::MetaStore>> s = fs::MetaStore::Open(d, vol.store_options(/*read_only=*/true));
    if (!s.ok()) continue;
    StatusOr<fs::StoreState> st = (*s)->ReadState();
    if (!st.ok()) continue;
    seen += " " + d + "@" + std::to_string(st->applied_lsn);
    if (!Covered(st->applied_lsn, journal_first)) continue;
    if (!found || st->applied_lsn > best.applied_lsn) best = Candidate{d, st->applied_lsn};
    found = true;
  }
  if (!found)
    return Status::NotFound("no metadata store of volume " + vol.path() +
                            " can be brought up to date: the journal starts at LSN " + std::to_string(journal_first) +
                            " and the stores are at" + (seen.empty() ? " (none)" : seen));
  return best;
}

StatusOr<std::unique_ptr<fs::MetaStore>> Seed(volume::Volume& vol, const std::string& name, uint64_t journal_first) {
  const std::string own = OwnStoreDir(vol, name);
  BATON_ASSIGN_OR_RETURN(Candidate src, BestSource(vol, own, journal_first));
  const std::string tmp = own + ".new";
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  BATON_RETURN_IF_ERROR(vol.env()->CreateDir(JoinPath(vol.path(), kMdsDirName)));
  BATON_RETURN_IF_ERROR(vol.env()->CreateDir(MdsDir(vol.path(), name)));
  BATON_RETURN_IF_ERROR(vol.env()->CreateDir(tmp));
  {
    BATON_ASSIGN_OR_RETURN(std::unique_ptr<fs::MetaStore> s, fs::MetaStore::Open(src.dir, vol.store_options(true)));
    BATON_RETURN_IF_ERROR(fs::CopyStore(*s, tmp));
  }
  BATON_RETURN_IF_ERROR(SyncFile(JoinPath(tmp, "data.mdb")));
  BATON_RETURN_IF_ERROR(vol.env()->SyncDir(tmp));
  std::filesystem::remove_all(own, ec);
  if (ec) return Status::IOError("removing " + own + ": " + ec.message());
  BATON_RETURN_IF_ERROR(vol.env()->Rename(tmp, own));
  BATON_RETURN_IF_ERROR(vol.env()->SyncDir(MdsDir(vol.path(), name)));
  LOG_INFO("mds", "metadata store %s seeded from %s (applied lsn %llu)", own.c_str(), src.dir.c_str(),
           static_cast<unsigned long long>(src.applied_lsn));
  return fs::MetaStore::Open(own, vol.store_options());
}

}  // namespace

std::string OwnStoreDir(const volume::Volume& vol, const std::string& name) {
  return JoinPath(MdsDir(vol.path(), name), "meta");
}

StatusOr<std::unique_ptr<fs::MetaStore>> OpenOwnStore(volume::Volume& vol, const std::string& name) {
  BATON_ASSIGN_OR_RETURN(uint64_t first,
                         journal::FirstJournalLsn(vol.env(), vol.journal_dir(), vol.superblock().volume_id));
  const std::string own = OwnStoreDir(vol, name);
  if (vol.env()->FileExists(JoinPath(own, "data.mdb"))) {
    StatusOr<std::unique_ptr<fs::MetaStore>> s = fs::MetaStore::Open(own, vol.store_options());
    // A store of another volume (or damaged) is refused, never replaced:
    // that needs an administrator.
    if (!s.ok()) {
      LOG_ERROR("mds", "cannot open this MDS's metadata store %s", own.c_str());
      return s.status();
    }
    BATON_ASSIGN_OR_RETURN(fs::StoreState st, (*s)->ReadState());
    if (Covered(st.applied_lsn, first)) return s;
    LOG_WARN("mds", "metadata store %s is at lsn %llu but the journal now starts at lsn %llu: re-seeding it",
             own.c_str(), static_cast<unsigned long long>(st.applied_lsn), static_cast<unsigned long long>(first));
  }
  return Seed(vol, name, first);
}

StatusOr<std::unique_ptr<fs::MetaStore>> ReseedOwnStore(volume::Volume& vol, const std::string& name,
                                                        std::unique_ptr<fs::MetaStore> old) {
  old.reset();
  BATON_ASSIGN_OR_RETURN(uint64_t first,
                         journal::FirstJournalLsn(vol.env(), vol.journal_dir(), vol.superblock().volume_id));
  return Seed(vol, name, first);
}

}  // namespace baton::mds
