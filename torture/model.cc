#include "torture/model.h"

#include <linux/falloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>
#include <sstream>
#include <vector>

#include "base/checksum.h"

namespace baton::torture {

namespace {

std::string ParentOf(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

bool Under(const std::string& p, const std::string& dir) {
  return p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 && p[dir.size()] == '/';
}

}  // namespace

RefModel::RefModel() {
  paths_[""] = NewNode("", 'd', 0755);
  for (const Step& s : SetupSteps()) Apply(s);
}

int RefModel::NewNode(const std::string&, char type, uint32_t perm) {
  const int id = next_id_++;
  nodes_[id].type = type;
  nodes_[id].perm = perm;
  return id;
}

bool RefModel::IsDir(const std::string& path) const {
  auto it = paths_.find(path);
  return it != paths_.end() && nodes_.at(it->second).type == 'd';
}

int RefModel::Parent(const std::string& path) const {
  const std::string parent = ParentOf(path);
  auto it = paths_.find(parent);
  if (it == paths_.end()) return ENOENT;
  return nodes_.at(it->second).type == 'd' ? 0 : ENOTDIR;
}

bool RefModel::Empty(const std::string& dir) const {
  for (auto it = paths_.upper_bound(dir); it != paths_.end(); ++it) {
    if (Under(it->first, dir)) return false;
    if (it->first.compare(0, dir.size(), dir) != 0) break;
  }
  return true;
}

int RefModel::Apply(const Step& s) {
  auto find = [&](const std::string& p) -> Node* {
    auto it = paths_.find(p);
    return it == paths_.end() ? nullptr : &nodes_[it->second];
  };
  switch (s.op) {
    case StepOp::kCreat:
    case StepOp::kMkdir:
    case StepOp::kSymlink: {
      const std::string& p = s.op == StepOp::kSymlink ? s.path2 : s.path;
      if (int e = Parent(p)) return e;
      if (paths_.count(p)) return EEXIST;
      const char type = s.op == StepOp::kCreat ? 'f' : s.op == StepOp::kMkdir ? 'd' : 'l';
      const int id = NewNode(p, type, s.op == StepOp::kCreat ? 0644 : s.op == StepOp::kMkdir ? 0755 : 0777);
      if (type == 'l') nodes_[id].data = s.path;
      paths_[p] = id;
      return 0;
    }
    case StepOp::kWrite:
    case StepOp::kAppend:
    case StepOp::kTruncate:
    case StepOp::kFallocate: {
      Node* n = find(s.path);
      if (n == nullptr) return ENOENT;
      if (n->type == 'd') return EISDIR;
      if (n->type != 'f') return EINVAL;
      std::string& d = n->data;
      if (s.op == StepOp::kTruncate) {
        d.resize(s.length, '\0');
      } else if (s.op == StepOp::kFallocate) {
        if (s.length == 0) return EINVAL;
        if (s.flags == 0) {
          if (d.size() < s.offset + s.length) d.resize(s.offset + s.length, '\0');
        } else {
          for (uint64_t i = s.offset; i < s.offset + s.length && i < d.size(); i++) d[i] = '\0';
        }
      } else {
        const std::string bytes = StepData(s);
        const uint64_t off = s.op == StepOp::kAppend ? d.size() : s.offset;
        if (d.size() < off + bytes.size()) d.resize(off + bytes.size(), '\0');
        std::copy(bytes.begin(), bytes.end(), d.begin() + static_cast<std::ptrdiff_t>(off));
      }
      return 0;
    }
    case StepOp::kLink: {
      auto it = paths_.find(s.path);
      if (it == paths_.end()) return ENOENT;
      if (int e = Parent(s.path2)) return e;
      if (paths_.count(s.path2)) return EEXIST;
      if (nodes_[it->second].type == 'd') return EPERM;
      paths_[s.path2] = it->second;
      return 0;
    }
    case StepOp::kUnlink: {
      auto it = paths_.find(s.path);
      if (it == paths_.end()) return ENOENT;
      if (nodes_[it->second].type == 'd') return EISDIR;
      paths_.erase(it);
      return 0;
    }
    case StepOp::kRmdir: {
      auto it = paths_.find(s.path);
      if (it == paths_.end()) return ENOENT;
      if (nodes_[it->second].type != 'd') return ENOTDIR;
      if (!Empty(s.path)) return ENOTEMPTY;
      paths_.erase(it);
      return 0;
    }
    case StepOp::kRename: {
      auto from = paths_.find(s.path);
      if (from == paths_.end()) return ENOENT;
      if (int e = Parent(s.path2)) return e;
      const bool src_dir = nodes_[from->second].type == 'd';
      if (src_dir && Under(s.path2, s.path)) return EINVAL;
      auto to = paths_.find(s.path2);
      if (to != paths_.end()) {
        const bool dst_dir = nodes_[to->second].type == 'd';
        if (to->second == from->second) return 0;  // the same file (or the same path): nothing happens
        if (src_dir && !dst_dir) return ENOTDIR;
        if (!src_dir && dst_dir) return EISDIR;
        if (dst_dir && !Empty(s.path2)) return ENOTEMPTY;
        paths_.erase(to);
      }
      std::vector<std::pair<std::string, int>> moved;
      for (auto it = paths_.begin(); it != paths_.end();) {
        if (it->first == s.path || Under(it->first, s.path)) {
          moved.emplace_back(s.path2 + it->first.substr(s.path.size()), it->second);
          it = paths_.erase(it);
        } else {
          ++it;
        }
      }
      for (auto& [p, id] : moved) paths_[p] = id;
      return 0;
    }
    case StepOp::kSetxattr:
    case StepOp::kRemovexattr: {
      Node* n = find(s.path);
      if (n == nullptr) return ENOENT;
      if (n->type == 'l') return EPERM;  // user.* xattrs only on regular files and directories
      if (s.op == StepOp::kSetxattr) {
        n->xattrs[s.path2] = StepData(s);
        return 0;
      }
      return n->xattrs.erase(s.path2) ? 0 : ENODATA;
    }
  }
  return EINVAL;
}

std::string RefModel::View() const {
  std::vector<std::string> lines;
  for (const auto& [path, id] : paths_) {
    if (path.empty()) continue;
    const Node& n = nodes_.at(id);
    uint32_t nlink = 0;
    if (n.type == 'd') {
      nlink = 2;
      for (const auto& [p2, id2] : paths_)
        if (ParentOf(p2) == path && !p2.empty() && nodes_.at(id2).type == 'd') nlink++;
    } else {
      for (const auto& [p2, id2] : paths_) nlink += id2 == id;
    }
    const uint32_t mode = (n.type == 'd' ? S_IFDIR : n.type == 'l' ? S_IFLNK : S_IFREG) | n.perm;
    const uint64_t size = n.type == 'd' ? 0 : n.data.size();
    char line[128];
    std::snprintf(line, sizeof line, "%s mode=%o nlink=%u size=%llu", path.c_str(), mode, nlink,
                  static_cast<unsigned long long>(size));
    std::string l = line;
    if (n.type == 'l') l += " -> " + n.data;
    if (n.type == 'f') {
      char h[32];
      std::snprintf(h, sizeof h, " data=%016llx", static_cast<unsigned long long>(Checksum64(n.data, 0)));
      l += h;
    }
    for (const auto& [name, value] : n.xattrs) {
      char h[32];
      std::snprintf(h, sizeof h, "=%016llx", static_cast<unsigned long long>(Checksum64(value, 0)));
      l += " x:" + name + h;
    }
    lines.push_back(l);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

std::string ModelView(const std::string& namespace_view) {
  std::vector<std::string> lines;
  std::istringstream in(namespace_view);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string w, out;
    for (bool first = true; words >> w; first = false) {
      if (!first) {
        static const char* drop[] = {"ino=", "uid=", "gid=", "blocks=", "m=", "c="};
        bool skip = false;
        for (const char* d : drop) skip |= w.rfind(d, 0) == 0;
        if (skip) continue;
      }
      out += (first ? "" : " ") + w;
    }
    lines.push_back(out);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace baton::torture
