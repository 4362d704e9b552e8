// Small RAII wrappers for LMDB transactions and cursors. A transaction that
// is neither committed nor released is aborted when it goes out of scope.
#pragma once

#include <lmdb.h>

#include "base/status.h"
#include "fs/meta_store.h"

namespace baton::fs {

class LmdbTxn {
 public:
  LmdbTxn() = default;
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;
  ~LmdbTxn() { Abort(); }
  Status Begin(MDB_env* env, bool read_only) {
    return LmdbStatus(mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0, &txn_), "mdb_txn_begin");
  }
  Status Commit() {
    int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;  // freed by LMDB whether or not the commit succeeded
    return LmdbStatus(rc, "mdb_txn_commit");
  }
  void Abort() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

class LmdbCursor {
 public:
  LmdbCursor() = default;
  LmdbCursor(const LmdbCursor&) = delete;
  LmdbCursor& operator=(const LmdbCursor&) = delete;
  ~LmdbCursor() { Close(); }
  // Write-transaction cursors must be closed before the commit (LMDB frees
  // them at transaction end).
  void Close() {
    if (cur_ != nullptr) mdb_cursor_close(cur_);
    cur_ = nullptr;
  }
  Status Open(MDB_txn* txn, MDB_dbi dbi) { return LmdbStatus(mdb_cursor_open(txn, dbi, &cur_), "mdb_cursor_open"); }
  // Returns MDB_SUCCESS, MDB_NOTFOUND or another LMDB code.
  int Get(MDB_val* k, MDB_val* v, MDB_cursor_op op) { return mdb_cursor_get(cur_, k, v, op); }
  MDB_cursor* get() const { return cur_; }

 private:
  MDB_cursor* cur_ = nullptr;
};

}  // namespace baton::fs
