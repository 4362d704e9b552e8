// `baton mount` (and mount.baton): the FUSE client lives in fuse/.
#include "fuse/fuse_fs.h"
#include "tools/commands.h"

namespace baton::tools {

int CmdMount(int argc, char** argv, int first) { return fuse::RunMount(argc, argv, first); }

}  // namespace baton::tools
