// The logical contents of a metadata store: every DBI's keys and values in
// key order, read in one snapshot. Two stores that applied the same journal
// records hold the same contents (apply() is deterministic), whatever their
// batching and crash history; recovery tests and the torture oracle compare
// stores this way.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "base/status.h"
#include "fs/meta_store.h"

namespace baton::fs {

using StoreEntryFn = std::function<void(std::string_view dbi, std::string_view key, std::string_view value)>;

// Calls fn for every entry of every DBI, DBIs in schema order.
Status ForEachStoreEntry(MetaStore& store, const StoreEntryFn& fn);
// xxHash3-64 over every entry (DBI name, key and value, length-prefixed).
StatusOr<uint64_t> DigestStoreContents(MetaStore& store);

}  // namespace baton::fs
