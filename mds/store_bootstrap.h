// Every MDS keeps its own metadata store: VOLUME/mds/NAME/meta. The journal
// is the only state MDSs share and write; a store is one MDS's private view
// of the journal's prefix up to its applied LSN (apply is deterministic, so
// two stores at the same LSN hold the same file system). This is what makes
// a hung active harmless: it can only ever write its own store, and its
// journal writes are fenced by epoch (docs/ARCHITECTURE.md "Fencing").
//
// An MDS whose store is missing, or whose applied LSN the journal no longer
// continues (the active trimmed past it while it was away), gets a copy of
// the most advanced store the journal does continue: another MDS's, or the
// one mkfs made (VOLUME/meta, at LSN 0). The copy is an LMDB hot copy
// (mdb_env_copy2), consistent even while its owner writes it.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "fs/meta_store.h"
#include "volume/volume.h"

namespace baton::mds {

// VOLUME/mds/NAME/meta.
std::string OwnStoreDir(const volume::Volume& vol, const std::string& name);

// Opens this MDS's store, seeding it first when needed (see above).
StatusOr<std::unique_ptr<fs::MetaStore>> OpenOwnStore(volume::Volume& vol, const std::string& name);

// Throws the store away and seeds a new one (the journal was trimmed past it).
StatusOr<std::unique_ptr<fs::MetaStore>> ReseedOwnStore(volume::Volume& vol, const std::string& name,
                                                        std::unique_ptr<fs::MetaStore> old);

}  // namespace baton::mds
