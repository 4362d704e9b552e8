// The LMDB MetaStore implementation: holds the environment and the DBI
// handles, opened once (fs/meta_schema.h).
#pragma once

#include <string>

#include "fs/meta_schema.h"
#include "fs/meta_store.h"

namespace baton::fs {

class LmdbMetaStore final : public MetaStore {
 public:
  LmdbMetaStore(MDB_env* env, const Dbis& dbis, const StoreOptions& opts, std::string dir)
      : env_(env), dbis_(dbis), opts_(opts), dir_(std::move(dir)) {}
  ~LmdbMetaStore() override { mdb_env_close(env_); }

  StatusOr<StoreState> ReadState() override;
  Status Sync() override;
  MDB_env* env() override { return env_; }
  const StoreOptions& options() const override { return opts_; }
  const Dbis& dbis() const { return dbis_; }
  void Init(const Dbis& d, uint32_t chunk_size_bytes) {
    dbis_ = d;
    opts_.chunk_size_bytes = chunk_size_bytes;
  }
  const std::string& dir() const { return dir_; }

 private:
  MDB_env* env_;
  Dbis dbis_;
  StoreOptions opts_;  // chunk_size_bytes as recorded in the store
  std::string dir_;
};

// The implementation behind a MetaStore (every MetaStore is an LmdbMetaStore).
LmdbMetaStore& Impl(MetaStore& store);

// Reads the persistent state inside a transaction.
Status ReadPersistState(MDB_txn* txn, const Dbis& d, PersistState* out);
Status WritePersistState(MDB_txn* txn, const Dbis& d, const PersistState& s);

}  // namespace baton::fs
