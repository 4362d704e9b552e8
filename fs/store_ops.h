// Typed access to the LMDB schema (fs/meta_schema.h) inside one transaction.
// Shared by apply(), the queries and the checker. "Not there" is
// Status::NotFound; malformed values are kCorruption.
#pragma once

#include <lmdb.h>

#include <string>
#include <string_view>

#include "fs/meta_schema.h"

namespace baton::fs {

struct TxnRef {
  MDB_txn* txn;
  const Dbis& d;
};

Status GetInode(TxnRef t, Ino ino, InodeRec* out);
// `scratch` is an encode buffer reused across calls.
Status PutInode(TxnRef t, const InodeRec& r, std::string* scratch);
Status DelInode(TxnRef t, Ino ino);
// Writes an inode whose number must be new: false (nothing written) if an
// inode with that number exists. One B-tree descent instead of a get and a put.
StatusOr<bool> PutNewInode(TxnRef t, const InodeRec& r, std::string* scratch);

Status GetDentry(TxnRef t, Ino parent, std::string_view name, DentryVal* out);
// Adds parent/name -> child with the next cookie of `parent` (advanced in
// place; the caller stores the parent inode).
Status AddDentry(TxnRef t, InodeRec* parent, std::string_view name, Ino child, uint32_t type);
// Rewrites the child of an existing entry, keeping its cookie.
Status SetDentry(TxnRef t, Ino parent, std::string_view name, const DentryVal& v);
Status DelDentry(TxnRef t, Ino parent, std::string_view name, uint64_t cookie);
StatusOr<bool> DirIsEmpty(TxnRef t, Ino dir);

// Deletes every key of `dbi` that starts with u64be(ino); adds the value
// bytes removed to *bytes_removed and their RecordCharge to *charge_removed
// when non-null.
Status DelAllOf(TxnRef t, MDB_dbi dbi, Ino ino, uint64_t* bytes_removed, uint64_t* charge_removed);

// The charged size of the whole store (state.used_bytes recounted): the
// RecordCharge of every record of inodes, dentries, dircookies, xattrs and
// chunks. Used to upgrade a version-1 state row and by the checker.
StatusOr<uint64_t> ComputeUsedBytes(TxnRef t);

Status AddOrphan(TxnRef t, Ino ino);
StatusOr<bool> DelOrphan(TxnRef t, Ino ino);  // true if it was one

// Generic get: NotFound if absent.
Status GetRaw(TxnRef t, MDB_dbi dbi, MDB_val key, MDB_val* val);
Status PutRaw(TxnRef t, MDB_dbi dbi, MDB_val key, std::string_view val);
Status DelRaw(TxnRef t, MDB_dbi dbi, MDB_val key);  // ok if absent

}  // namespace baton::fs
