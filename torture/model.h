// The reference model: an independent, in-memory file system (paths, file
// bytes, hard links, symlinks, xattrs) that the torture harness runs beside
// every workload. After each step the live MDS's answer must carry the
// model's errno, and its namespace (torture/workload.h NamespaceView, minus
// inode numbers, owners, block counts and times) must equal the model's.
// Crash states are compared with the live store byte for byte, so the model
// vouches for them too. It shares no code with fs/: a bug in apply() that
// replay repeats faithfully still disagrees with it.
#pragma once

#include <map>
#include <string>

#include "torture/workload.h"

namespace baton::torture {

class RefModel {
 public:
  // The template namespace (SetupSteps applied).
  RefModel();
  // Applies a step; returns 0 or the errno POSIX gives.
  int Apply(const Step& s);
  // The namespace in ModelView form: one line per path, sorted.
  std::string View() const;

 private:
  struct Node {
    char type = 'f';  // f file, d directory, l symlink
    uint32_t perm = 0644;
    std::string data;    // file bytes or symlink target
    std::map<std::string, std::string> xattrs;
  };
  int Parent(const std::string& path) const;  // 0 if the parent is a directory, else errno
  bool IsDir(const std::string& path) const;
  bool Empty(const std::string& dir) const;
  int NewNode(const std::string& path, char type, uint32_t perm);
  std::map<std::string, int> paths_;  // path -> node id ("" = root)
  std::map<int, Node> nodes_;
  int next_id_ = 1;
};

// Projects a NamespaceView onto what the model knows: drops inode numbers,
// owners, block counts and times; sorts the lines.
std::string ModelView(const std::string& namespace_view);

}  // namespace baton::torture
