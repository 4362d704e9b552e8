#include "fs/store_contents.h"

#include "base/checksum.h"
#include "base/coding.h"
#include "fs/lmdb_txn.h"
#include "fs/meta_store_impl.h"

namespace baton::fs {

Status ForEachStoreEntry(MetaStore& store, const StoreEntryFn& fn) {
  LmdbMetaStore& impl = Impl(store);
  LmdbTxn txn;
  BATON_RETURN_IF_ERROR(txn.Begin(impl.env(), true));
  const Dbis& d = impl.dbis();
  const MDB_dbi dbis[] = {d.state,  d.inodes,  d.dentries, d.dircookies, d.xattrs,
                          d.chunks, d.orphans, d.replies,  d.sessions};
  static_assert(std::size(dbis) == std::size(kDbiNames));
  for (size_t i = 0; i < std::size(dbis); i++) {
    LmdbCursor cur;
    BATON_RETURN_IF_ERROR(cur.Open(txn.get(), dbis[i]));
    MDB_val k, v;
    int rc;
    for (rc = cur.Get(&k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = cur.Get(&k, &v, MDB_NEXT))
      fn(kDbiNames[i], View(k), View(v));
    if (rc != MDB_NOTFOUND) return LmdbStatus(rc, "store contents cursor");
  }
  return Status::Ok();
}

StatusOr<uint64_t> DigestStoreContents(MetaStore& store) {
  Checksummer sum(0);
  std::string buf;
  BATON_RETURN_IF_ERROR(ForEachStoreEntry(store, [&](std::string_view dbi, std::string_view k, std::string_view v) {
    buf.clear();
    PutBytes(&buf, dbi);
    PutBytes(&buf, k);
    PutBytes(&buf, v);
    sum.Update(buf);
  }));
  return sum.Digest();
}

}  // namespace baton::fs
