// MetaStore: open/format the LMDB environment, the one LMDB-code translation.
#include <sys/stat.h>

#include "base/env.h"
#include "base/log.h"
#include "fs/lmdb_txn.h"
#include "fs/meta_store_impl.h"

namespace baton::fs {

Status LmdbStatus(int rc, const char* what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  // A missing key is routine (every create looks up its name and its new
  // inode number): a short message that builds no string on the heap.
  if (rc == MDB_NOTFOUND) return Status::NotFound(what);
  std::string m = std::string(what) + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_NOTFOUND: return Status::NotFound(m);
    case MDB_MAP_FULL: case MDB_PAGE_FULL: case ENOSPC: return Status::NoSpace(m);
    case MDB_TXN_FULL: return Status::TooLarge(m);
    case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID: case MDB_BAD_DBI: case MDB_INCOMPATIBLE:
      return Status::Corruption(m);
    case MDB_VERSION_MISMATCH: return Status::Unsupported(m);
    case MDB_READERS_FULL: case EAGAIN: case EBUSY: return Status::Busy(m);
    case ENOENT: return Status::NotFound(m);
    default: break;
  }
  return Status::IOError(m, rc > 0 ? rc : 0);  // MDB_PANIC, EIO, EACCES, ...
}

LmdbMetaStore& Impl(MetaStore& store) {
  auto* impl = dynamic_cast<LmdbMetaStore*>(&store);
  assert(impl != nullptr);
  return *impl;
}

Status ReadPersistState(MDB_txn* txn, const Dbis& d, PersistState* out) {
  MDB_val k{kStateKey.size(), const_cast<char*>(kStateKey.data())}, v;
  int rc = mdb_get(txn, d.state, &k, &v);
  if (rc == MDB_NOTFOUND) return Status::Corruption("metadata store has no state record");
  BATON_RETURN_IF_ERROR(LmdbStatus(rc, "read state"));
  return DecodeState(View(v), out);
}

Status WritePersistState(MDB_txn* txn, const Dbis& d, const PersistState& s) {
  std::string enc = EncodeState(s);
  MDB_val k{kStateKey.size(), const_cast<char*>(kStateKey.data())}, v{enc.size(), enc.data()};
  return LmdbStatus(mdb_put(txn, d.state, &k, &v, 0), "write state");
}

namespace {

Status OpenEnv(const std::string& dir, const StoreOptions& opts, MDB_env** env) {
  BATON_RETURN_IF_ERROR(LmdbStatus(mdb_env_create(env), "mdb_env_create"));
  unsigned flags = MDB_NOMETASYNC | MDB_NOTLS | MDB_NORDAHEAD | (opts.read_only ? MDB_RDONLY : 0);
  int rc = mdb_env_set_maxdbs(*env, kMaxDbs);
  if (rc == 0) rc = mdb_env_set_mapsize(*env, opts.map_size_bytes);
  if (rc == 0) rc = mdb_env_open(*env, dir.c_str(), flags, 0644);
  if (rc != 0) {
    mdb_env_close(*env);
    *env = nullptr;
    return LmdbStatus(rc, ("open metadata store " + dir).c_str());
  }
  return Status::Ok();
}

Status OpenDbis(MDB_txn* txn, bool create, Dbis* d) {
  MDB_dbi* slots[] = {&d->state, &d->inodes, &d->dentries, &d->dircookies, &d->xattrs,
                      &d->chunks, &d->orphans, &d->replies, &d->sessions};
  static_assert(std::size(slots) == std::size(kDbiNames));
  for (size_t i = 0; i < std::size(slots); i++) {
    int rc = mdb_dbi_open(txn, kDbiNames[i], create ? MDB_CREATE : 0, slots[i]);
    if (rc == MDB_NOTFOUND) return Status::Corruption(std::string("metadata store lacks DBI ") + kDbiNames[i]);
    BATON_RETURN_IF_ERROR(LmdbStatus(rc, "mdb_dbi_open"));
  }
  return Status::Ok();
}

Status WriteRoot(MDB_txn* txn, const Dbis& d, uint32_t uid, uint32_t gid, int64_t now_ns) {
  InodeRec root;
  root.attr.ino = kRootIno;
  root.attr.mode = S_IFDIR | 0755;
  root.attr.nlink = 2;
  root.attr.uid = uid;
  root.attr.gid = gid;
  root.attr.atime_ns = root.attr.mtime_ns = root.attr.ctime_ns = now_ns;
  root.attr.generation = 1;
  root.parent = kRootIno;
  root.next_cookie = kFirstDirCookie;
  std::string enc;
  EncodeInode(root, &enc);
  Key8 k = InoKey(kRootIno);
  MDB_val kv = k.val(), v{enc.size(), enc.data()};
  return LmdbStatus(mdb_put(txn, d.inodes, &kv, &v, MDB_NOOVERWRITE), "write root inode");
}

constexpr std::string_view kVolumeIdKey = "volume_id";

std::string Hex(std::string_view b) {
  static const char* kDigits = "0123456789abcdef";
  std::string o;
  for (unsigned char c : b) o += {kDigits[c >> 4], kDigits[c & 15]};
  return o;
}

Status WriteVolumeId(MDB_txn* txn, const Dbis& d, const std::string& id) {
  if (id.empty()) return Status::Ok();
  if (id.size() != 16) return Status::InvalidArgument("volume id must be 16 bytes");
  MDB_val k{kVolumeIdKey.size(), const_cast<char*>(kVolumeIdKey.data())}, v{id.size(), const_cast<char*>(id.data())};
  return LmdbStatus(mdb_put(txn, d.state, &k, &v, 0), "write volume id");
}

Status CheckVolumeId(MDB_txn* txn, const Dbis& d, const std::string& dir, const std::string& want) {
  if (want.empty()) return Status::Ok();
  MDB_val k{kVolumeIdKey.size(), const_cast<char*>(kVolumeIdKey.data())}, v;
  int rc = mdb_get(txn, d.state, &k, &v);
  if (rc == MDB_NOTFOUND) return Status::Corruption("metadata store in " + dir + " records no volume id");
  BATON_RETURN_IF_ERROR(LmdbStatus(rc, "read volume id"));
  if (View(v) != want)
    return Status::Corruption("metadata store in " + dir + " belongs to volume " + Hex(View(v)) + ", not to volume " +
                              Hex(want));
  return Status::Ok();
}

}  // namespace

Status MetaStore::Format(const std::string& dir, const StoreOptions& opts, uint32_t root_uid, uint32_t root_gid,
                         int64_t now_ns) {
  if (opts.read_only) return Status::InvalidArgument("cannot format a read-only store");
  if (opts.chunk_size_bytes < 512 || opts.chunk_size_bytes > (16u << 20))
    return Status::InvalidArgument("chunk size must be 512 B .. 16 MiB");
  if (opts.map_size_bytes < kMapSizeMinBytes) return Status::InvalidArgument("map size must be at least 16 MiB");
  Env* env = Env::Default();
  BATON_RETURN_IF_ERROR(env->CreateDir(dir));
  if (env->FileExists(JoinPath(dir, "data.mdb")))
    return Status::InvalidArgument("metadata store already exists in " + dir);
  MDB_env* menv = nullptr;
  BATON_RETURN_IF_ERROR(OpenEnv(dir, opts, &menv));
  LmdbMetaStore store(menv, Dbis{}, opts, dir);  // closes the env on return
  LmdbTxn txn;
  BATON_RETURN_IF_ERROR(txn.Begin(menv, false));
  Dbis d;
  BATON_RETURN_IF_ERROR(OpenDbis(txn.get(), true, &d));
  PersistState st;
  st.next_ino = kRootIno + 1;
  st.inode_count = 1;
  st.chunk_size_bytes = opts.chunk_size_bytes;
  st.capacity_bytes = CapacityForMapSize(opts.map_size_bytes);
  st.used_bytes = InodeCharge(0);  // the root (no entry)
  BATON_RETURN_IF_ERROR(WritePersistState(txn.get(), d, st));
  BATON_RETURN_IF_ERROR(WriteVolumeId(txn.get(), d, opts.volume_id));
  BATON_RETURN_IF_ERROR(WriteRoot(txn.get(), d, root_uid, root_gid, now_ns));
  BATON_RETURN_IF_ERROR(txn.Commit());
  BATON_RETURN_IF_ERROR(LmdbStatus(mdb_env_sync(menv, 1), "mdb_env_sync"));
  // data.mdb's directory entry (LMDB creates the file but never syncs the
  // directory; found by the LMDB crash test's review).
  return env->SyncDir(dir);
}

StatusOr<std::unique_ptr<MetaStore>> MetaStore::Open(const std::string& dir, const StoreOptions& opts) {
  if (!Env::Default()->FileExists(JoinPath(dir, "data.mdb")))
    return Status::NotFound("no metadata store in " + dir);
  MDB_env* env = nullptr;
  BATON_RETURN_IF_ERROR(OpenEnv(dir, opts, &env));
  int dead = 0;
  mdb_reader_check(env, &dead);  // slots of dead processes (see Sync)
  auto store = std::make_unique<LmdbMetaStore>(env, Dbis{}, opts, dir);
  LmdbTxn txn;
  BATON_RETURN_IF_ERROR(txn.Begin(env, opts.read_only));
  Dbis d;
  BATON_RETURN_IF_ERROR(OpenDbis(txn.get(), false, &d));
  PersistState st;
  BATON_RETURN_IF_ERROR(ReadPersistState(txn.get(), d, &st));
  BATON_RETURN_IF_ERROR(CheckVolumeId(txn.get(), d, dir, opts.volume_id));
  BATON_RETURN_IF_ERROR(txn.Commit());  // keeps the DBI handles
  store->Init(d, st.chunk_size_bytes);  // the store's own chunk size, never the caller's
  return std::unique_ptr<MetaStore>(std::move(store));
}

StatusOr<StoreState> LmdbMetaStore::ReadState() {
  LmdbTxn txn;
  BATON_RETURN_IF_ERROR(txn.Begin(env_, true));
  PersistState p;
  BATON_RETURN_IF_ERROR(ReadPersistState(txn.get(), dbis_, &p));
  StoreState s;
  s.applied_lsn = p.applied_lsn;
  s.next_ino = p.next_ino;
  s.inode_count = p.inode_count;
  s.bytes_stored = p.bytes_stored;
  s.capacity_bytes = p.capacity_bytes;
  s.used_bytes = p.used_bytes;
  return s;
}

Status CopyStore(MetaStore& src, const std::string& dest_dir) {
  return LmdbStatus(mdb_env_copy2(src.env(), dest_dir.c_str(), MDB_CP_COMPACT), "mdb_env_copy2");
}

Status LmdbMetaStore::Sync() {
  // Readers of processes that died (a standby killed while copying this
  // store) would pin old pages forever: clear their slots.
  int dead = 0;
  mdb_reader_check(env_, &dead);
  return LmdbStatus(mdb_env_sync(env_, 1), "mdb_env_sync");
}

}  // namespace baton::fs
