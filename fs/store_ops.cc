#include "fs/store_ops.h"

#include "fs/lmdb_txn.h"
#include "fs/meta_store.h"

namespace baton::fs {

Status GetRaw(TxnRef t, MDB_dbi dbi, MDB_val key, MDB_val* val) {
  return LmdbStatus(mdb_get(t.txn, dbi, &key, val), "mdb_get");
}

Status PutRaw(TxnRef t, MDB_dbi dbi, MDB_val key, std::string_view val) {
  MDB_val v{val.size(), const_cast<char*>(val.data())};
  return LmdbStatus(mdb_put(t.txn, dbi, &key, &v, 0), "mdb_put");
}

Status DelRaw(TxnRef t, MDB_dbi dbi, MDB_val key) {
  int rc = mdb_del(t.txn, dbi, &key, nullptr);
  if (rc == MDB_NOTFOUND) return Status::Ok();
  return LmdbStatus(rc, "mdb_del");
}

Status GetInode(TxnRef t, Ino ino, InodeRec* out) {
  Key8 k = InoKey(ino);
  MDB_val v;
  BATON_RETURN_IF_ERROR(GetRaw(t, t.d.inodes, k.val(), &v));
  BATON_RETURN_IF_ERROR(DecodeInode(View(v), out));
  if (out->attr.ino != ino) return Status::Corruption("inode value holds another inode number");
  return Status::Ok();
}

Status PutInode(TxnRef t, const InodeRec& r, std::string* scratch) {
  EncodeInode(r, scratch);
  Key8 k = InoKey(r.attr.ino);
  return PutRaw(t, t.d.inodes, k.val(), *scratch);
}

StatusOr<bool> PutNewInode(TxnRef t, const InodeRec& r, std::string* scratch) {
  EncodeInode(r, scratch);
  Key8 k = InoKey(r.attr.ino);
  MDB_val kv = k.val(), v{scratch->size(), scratch->data()};
  int rc = mdb_put(t.txn, t.d.inodes, &kv, &v, MDB_NOOVERWRITE);
  if (rc == MDB_KEYEXIST) return false;
  BATON_RETURN_IF_ERROR(LmdbStatus(rc, "mdb_put new inode"));
  return true;
}

Status DelInode(TxnRef t, Ino ino) {
  Key8 k = InoKey(ino);
  return DelRaw(t, t.d.inodes, k.val());
}

Status GetDentry(TxnRef t, Ino parent, std::string_view name, DentryVal* out) {
  NameKey k(parent, name);
  MDB_val v;
  BATON_RETURN_IF_ERROR(GetRaw(t, t.d.dentries, k.val(), &v));
  return DecodeDentry(View(v), out);
}

Status SetDentry(TxnRef t, Ino parent, std::string_view name, const DentryVal& v) {
  char buf[kDentryValueBytes];
  EncodeDentry(v, buf);
  NameKey k(parent, name);
  return PutRaw(t, t.d.dentries, k.val(), std::string_view(buf, sizeof(buf)));
}

Status AddDentry(TxnRef t, InodeRec* parent, std::string_view name, Ino child, uint32_t type) {
  DentryVal v{child, type, parent->next_cookie++};
  BATON_RETURN_IF_ERROR(SetDentry(t, parent->attr.ino, name, v));
  Key16 ck = PairKey(parent->attr.ino, v.cookie);
  return PutRaw(t, t.d.dircookies, ck.val(), name);
}

Status DelDentry(TxnRef t, Ino parent, std::string_view name, uint64_t cookie) {
  NameKey k(parent, name);
  BATON_RETURN_IF_ERROR(DelRaw(t, t.d.dentries, k.val()));
  Key16 ck = PairKey(parent, cookie);
  return DelRaw(t, t.d.dircookies, ck.val());
}

StatusOr<bool> DirIsEmpty(TxnRef t, Ino dir) {
  LmdbCursor c;
  BATON_RETURN_IF_ERROR(c.Open(t.txn, t.d.dentries));
  Key8 k = InoKey(dir);
  MDB_val kv = k.val(), v;
  int rc = c.Get(&kv, &v, MDB_SET_RANGE);
  if (rc == MDB_NOTFOUND) return true;
  BATON_RETURN_IF_ERROR(LmdbStatus(rc, "dentry cursor"));
  return !(kv.mv_size >= 8 && std::memcmp(kv.mv_data, k.b, 8) == 0);
}

Status DelAllOf(TxnRef t, MDB_dbi dbi, Ino ino, uint64_t* bytes_removed, uint64_t* charge_removed) {
  LmdbCursor c;
  BATON_RETURN_IF_ERROR(c.Open(t.txn, dbi));
  Key8 k = InoKey(ino);
  MDB_val kv = k.val(), v;
  int rc = c.Get(&kv, &v, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS && kv.mv_size >= 8 && std::memcmp(kv.mv_data, k.b, 8) == 0) {
    if (bytes_removed != nullptr) *bytes_removed += v.mv_size;
    if (charge_removed != nullptr) *charge_removed += RecordCharge(kv.mv_size, v.mv_size);
    BATON_RETURN_IF_ERROR(LmdbStatus(mdb_cursor_del(c.get(), 0), "mdb_cursor_del"));
    kv = k.val();  // re-seek: simple and correct whatever LMDB did with the cursor
    rc = c.Get(&kv, &v, MDB_SET_RANGE);
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return LmdbStatus(rc, "cursor");
  return Status::Ok();
}

StatusOr<uint64_t> ComputeUsedBytes(TxnRef t) {
  uint64_t used = 0;
  for (MDB_dbi dbi : {t.d.inodes, t.d.dentries, t.d.dircookies, t.d.xattrs, t.d.chunks}) {
    LmdbCursor c;
    BATON_RETURN_IF_ERROR(c.Open(t.txn, dbi));
    MDB_val k, v;
    int rc = c.Get(&k, &v, MDB_FIRST);
    for (; rc == MDB_SUCCESS; rc = c.Get(&k, &v, MDB_NEXT)) used += RecordCharge(k.mv_size, v.mv_size);
    if (rc != MDB_NOTFOUND) return LmdbStatus(rc, "usage cursor");
  }
  return used;
}

Status AddOrphan(TxnRef t, Ino ino) {
  Key8 k = InoKey(ino);
  return PutRaw(t, t.d.orphans, k.val(), {});
}

StatusOr<bool> DelOrphan(TxnRef t, Ino ino) {
  Key8 k = InoKey(ino);
  MDB_val kv = k.val();
  int rc = mdb_del(t.txn, t.d.orphans, &kv, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  BATON_RETURN_IF_ERROR(LmdbStatus(rc, "mdb_del orphan"));
  return true;
}

}  // namespace baton::fs
