// The `baton` subcommands. Each takes the full argv and the index of its
// first own argument, and returns the process exit code.
#pragma once

namespace baton::tools {

int CmdMkfs(int argc, char** argv, int first);
int CmdMds(int argc, char** argv, int first);
int CmdFsck(int argc, char** argv, int first);
int CmdJournal(int argc, char** argv, int first);
int CmdStatus(int argc, char** argv, int first);
int CmdMount(int argc, char** argv, int first);
int CmdTorture(int argc, char** argv, int first);  // torture/runner.cc does the work  // fuse/mount_main.cc does the work

}  // namespace baton::tools
