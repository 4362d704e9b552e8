#include "torture/workload.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>

#include <cstdio>
#include <random>

#include "base/checksum.h"
#include "fs/apply.h"

namespace baton::torture {

namespace {

const char* OpName(StepOp op) {
  switch (op) {
    case StepOp::kCreat: return "creat";
    case StepOp::kWrite: return "write";
    case StepOp::kAppend: return "append";
    case StepOp::kTruncate: return "truncate";
    case StepOp::kLink: return "link";
    case StepOp::kUnlink: return "unlink";
    case StepOp::kRename: return "rename";
    case StepOp::kMkdir: return "mkdir";
    case StepOp::kRmdir: return "rmdir";
    case StepOp::kSymlink: return "symlink";
    case StepOp::kSetxattr: return "setxattr";
    case StepOp::kRemovexattr: return "removexattr";
    case StepOp::kFallocate: return "fallocate";
  }
  return "?";
}

Step S(StepOp op, std::string path, std::string path2 = "", uint64_t offset = 0, uint64_t length = 0,
       uint32_t flags = 0, uint8_t fill = 0) {
  Step s;
  s.op = op;
  s.path = std::move(path);
  s.path2 = std::move(path2);
  s.offset = offset;
  s.length = length;
  s.flags = flags;
  s.fill = fill;
  return s;
}

std::string Parent(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

std::string Base(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Resolves a path ("" = the root) by lookups; 0 if it does not resolve.
fs::Ino Resolve(const QueryFn& query, const std::string& path) {
  fs::Ino ino = fs::kRootIno;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    std::string name = path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    fs::Request q;
    q.op = fs::Op::kLookup;
    q.parent = ino;
    q.name = name;
    fs::Reply r = query(q);
    if (r.err != 0) return 0;
    ino = r.attr.ino;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return ino;
}

}  // namespace

std::string DescribeStep(const Step& s) {
  std::string d = std::string(OpName(s.op)) + " " + s.path;
  switch (s.op) {
    case StepOp::kWrite:
      d += " @" + std::to_string(s.offset) + " +" + std::to_string(s.length);
      break;
    case StepOp::kAppend:
    case StepOp::kTruncate: d += " " + std::to_string(s.length); break;
    case StepOp::kLink:
    case StepOp::kRename:
    case StepOp::kSymlink: d += " " + s.path2; break;
    case StepOp::kSetxattr: d += " " + s.path2 + "=" + std::to_string(s.length) + "B"; break;
    case StepOp::kRemovexattr: d += " " + s.path2; break;
    case StepOp::kFallocate:
      d += " mode " + std::to_string(s.flags) + " @" + std::to_string(s.offset) + " +" + std::to_string(s.length);
      break;
    default: break;
  }
  static const char* persist[] = {"", "; fsync", "; fdatasync", "; fsyncdir"};
  return d + persist[static_cast<int>(s.persist)];
}

std::string DescribeWorkload(const std::vector<Step>& w) {
  std::string out;
  for (size_t i = 0; i < w.size(); i++) out += (i ? " | " : "") + DescribeStep(w[i]);
  return out.empty() ? "(empty)" : out;
}

std::vector<Step> SetupSteps() {
  std::vector<Step> v{S(StepOp::kMkdir, "A"), S(StepOp::kMkdir, "B"), S(StepOp::kMkdir, "A/C"),
                      S(StepOp::kCreat, "A/foo"), S(StepOp::kWrite, "A/foo", "", 0, 8192, 0, 1),
                      S(StepOp::kCreat, "A/bar"), S(StepOp::kWrite, "A/bar", "", 0, 100, 0, 2),
                      S(StepOp::kSetxattr, "A/bar", "user.y", 0, 16, 0, 3)};
  return v;
}

std::vector<Step> AceOps() {
  return {
      S(StepOp::kCreat, "A/new"),
      S(StepOp::kCreat, "B/foo"),
      S(StepOp::kWrite, "A/foo", "", 0, 4096, 0, 11),      // overwrite, aligned
      S(StepOp::kWrite, "A/bar", "", 1234, 5000, 0, 12),   // unaligned, extends
      S(StepOp::kAppend, "A/foo", "", 0, 3000, 0, 13),
      S(StepOp::kTruncate, "A/foo", "", 0, 1000),           // down
      S(StepOp::kTruncate, "A/bar", "", 0, 20000),          // up
      S(StepOp::kLink, "A/foo", "B/link"),
      S(StepOp::kUnlink, "A/foo"),
      S(StepOp::kUnlink, "A/bar"),
      S(StepOp::kRename, "A/foo", "A/baz"),                 // file
      S(StepOp::kRename, "A/foo", "A/bar"),                 // over an existing file
      S(StepOp::kRename, "A/foo", "B/foo"),                 // across directories
      S(StepOp::kRename, "A/C", "B"),                       // directory over an empty directory
      S(StepOp::kMkdir, "A/D"),
      S(StepOp::kRmdir, "A/C"),
      S(StepOp::kSymlink, "foo", "A/sym"),
      S(StepOp::kSetxattr, "A/foo", "user.x", 0, 40, 0, 14),
      S(StepOp::kRemovexattr, "A/bar", "user.y"),
      S(StepOp::kFallocate, "A/bar", "", 0, 16384, 0),      // mode 0: allocate and extend
      S(StepOp::kFallocate, "A/foo", "", 0, 4096, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE),
  };
}

std::vector<std::vector<Step>> AceWorkloads(int n, const std::vector<Persist>& persists) {
  std::vector<Step> steps;
  for (const Step& op : AceOps()) {
    for (Persist p : persists) {
      Step s = op;
      s.persist = p;
      steps.push_back(s);
    }
  }
  std::vector<std::vector<Step>> out{{}};
  for (int i = 0; i < n; i++) {
    std::vector<std::vector<Step>> next;
    for (const auto& w : out) {
      for (const Step& s : steps) {
        next.push_back(w);
        next.back().push_back(s);
      }
    }
    out.swap(next);
  }
  return out;
}

std::vector<Step> RandomWorkload(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> dirs{"A", "B", "A/C", "B/D"};
  const std::vector<std::string> names{"f0", "f1", "f2", "foo", "bar"};
  auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
  auto file = [&] { return pick(dirs) + "/" + pick(names); };
  std::vector<Step> w;
  for (size_t i = 0; i < n; i++) {
    Step s;
    switch (rng() % 14) {
      case 0: case 1: s = S(StepOp::kCreat, file()); break;
      case 2: case 3:
        s = S(StepOp::kWrite, file(), "", rng() % 20000, 1 + rng() % 9000, 0, static_cast<uint8_t>(rng()));
        break;
      case 4: s = S(StepOp::kAppend, file(), "", 0, 1 + rng() % 5000, 0, static_cast<uint8_t>(rng())); break;
      case 5: s = S(StepOp::kTruncate, file(), "", 0, rng() % 30000); break;
      case 6: s = S(StepOp::kLink, file(), file()); break;
      case 7: s = S(StepOp::kUnlink, file()); break;
      case 8: s = S(StepOp::kRename, rng() % 4 ? file() : pick(dirs), rng() % 4 ? file() : pick(dirs)); break;
      case 9: s = S(StepOp::kMkdir, pick(dirs) == "A" ? "B/D" : pick(dirs) + "/" + pick(names)); break;
      case 10: s = S(StepOp::kRmdir, pick(dirs)); break;
      case 11: s = S(StepOp::kSymlink, pick(names), file()); break;
      case 12:
        s = rng() % 2 ? S(StepOp::kSetxattr, file(), "user.t" + std::to_string(rng() % 3), 0, 1 + rng() % 200, 0,
                          static_cast<uint8_t>(rng()))
                      : S(StepOp::kRemovexattr, file(), "user.t" + std::to_string(rng() % 3));
        break;
      default:
        s = S(StepOp::kFallocate, file(), "", rng() % 20000, 1 + rng() % 20000,
              rng() % 2 ? 0u : static_cast<uint32_t>(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE));
        break;
    }
    s.persist = static_cast<Persist>(rng() % 4);
    w.push_back(s);
  }
  return w;
}

std::string StepData(const Step& s) {
  std::string d(s.length, '\0');
  for (uint64_t i = 0; i < s.length; i++) d[i] = static_cast<char>(s.fill * 31 + (s.offset + i) * 7 + (i >> 9));
  return d;
}

QueryFn StoreQuery(fs::MetaStore& store) {
  return [&store](const fs::Request& q) { return fs::Query(store, q); };
}

std::vector<fs::Request> ResolveStep(fs::MetaStore& store, const Step& s) { return ResolveStep(StoreQuery(store), s); }

std::vector<fs::Request> ResolveStep(const QueryFn& query, const Step& s) {
  fs::Request r;
  fs::Ino dir_ino = 0;  // for fsyncdir
  auto named = [&](const std::string& path, fs::Ino* parent, std::string* name) {
    *parent = Resolve(query, Parent(path));
    *name = Base(path);
    return *parent != 0;
  };
  auto ino_of = [&](const std::string& path, fs::Ino* ino) {
    *ino = Resolve(query, path);
    dir_ino = Resolve(query, Parent(path));
    return *ino != 0;
  };
  fs::Ino file_ino = 0;
  switch (s.op) {
    case StepOp::kCreat:
    case StepOp::kMkdir:
      if (!named(s.path, &r.parent, &r.name)) return {};
      r.op = s.op == StepOp::kCreat ? fs::Op::kMknod : fs::Op::kMkdir;
      r.mode = s.op == StepOp::kCreat ? (S_IFREG | 0644) : (S_IFDIR | 0755);
      r.umask = 022;
      dir_ino = r.parent;
      break;
    case StepOp::kSymlink:
      if (!named(s.path2, &r.parent, &r.name)) return {};
      r.op = fs::Op::kSymlink;
      r.data = s.path;
      dir_ino = r.parent;
      break;
    case StepOp::kUnlink:
    case StepOp::kRmdir:
      if (!named(s.path, &r.parent, &r.name)) return {};
      r.op = s.op == StepOp::kUnlink ? fs::Op::kUnlink : fs::Op::kRmdir;
      dir_ino = r.parent;
      break;
    case StepOp::kRename:
      if (!named(s.path, &r.parent, &r.name) || !named(s.path2, &r.new_parent, &r.new_name)) return {};
      r.op = fs::Op::kRename;
      dir_ino = r.new_parent;
      break;
    case StepOp::kLink:
      if (!ino_of(s.path, &r.ino) || !named(s.path2, &r.new_parent, &r.new_name)) return {};
      r.op = fs::Op::kLink;
      dir_ino = r.new_parent;
      break;
    case StepOp::kWrite:
    case StepOp::kAppend:
      if (!ino_of(s.path, &r.ino)) return {};
      r.op = fs::Op::kWrite;
      r.offset = s.offset;
      r.data = StepData(s);
      if (s.op == StepOp::kAppend) r.flags = fs::kWriteAppend;
      break;
    case StepOp::kTruncate:
      if (!ino_of(s.path, &r.ino)) return {};
      r.op = fs::Op::kSetattr;
      r.set.valid = fs::kSetSize;
      r.set.size = s.length;
      break;
    case StepOp::kSetxattr:
    case StepOp::kRemovexattr:
      if (!ino_of(s.path, &r.ino)) return {};
      r.op = s.op == StepOp::kSetxattr ? fs::Op::kSetxattr : fs::Op::kRemovexattr;
      r.name = s.path2;
      if (s.op == StepOp::kSetxattr) r.data = StepData(s);
      break;
    case StepOp::kFallocate:
      if (!ino_of(s.path, &r.ino)) return {};
      r.op = fs::Op::kFallocate;
      r.flags = s.flags;
      r.offset = s.offset;
      r.length = s.length;
      break;
  }
  file_ino = r.ino != 0 ? r.ino : 0;
  std::vector<fs::Request> out{r};
  if (s.persist != Persist::kNone) {
    fs::Request f;
    f.op = fs::Op::kFsync;
    // fsync of a file the step names; the directory for fsyncdir and for
    // steps that name no existing file (a create's inode is not known yet).
    f.ino = s.persist == Persist::kFsyncDir || file_ino == 0 ? dir_ino : file_ino;
    out.push_back(f);
  }
  return out;
}

StatusOr<std::string> NamespaceView(fs::MetaStore& store) { return NamespaceView(StoreQuery(store)); }

StatusOr<std::string> NamespaceView(const QueryFn& query) {
  std::string out;
  std::vector<std::pair<std::string, fs::Ino>> todo{{"", fs::kRootIno}};
  while (!todo.empty()) {
    auto [path, dir] = todo.back();
    todo.pop_back();
    uint64_t cookie = 0;
    for (;;) {
      fs::Request q;
      q.op = fs::Op::kReaddir;
      q.ino = dir;
      q.offset = cookie;
      fs::Reply r = query(q);
      if (r.err != 0) return Status::Corruption("readdir of /" + path + ": errno " + std::to_string(r.err));
      if (r.entries.empty()) break;
      for (const fs::DirEntry& e : r.entries) {
        cookie = e.cookie;
        const std::string p = path.empty() ? e.name : path + "/" + e.name;
        const fs::Attr& a = e.attr;
        char line[256];
        std::snprintf(line, sizeof line, "%s ino=%llu mode=%o nlink=%u uid=%u gid=%u size=%llu blocks=%llu "
                      "m=%lld c=%lld", p.c_str(), static_cast<unsigned long long>(a.ino), a.mode, a.nlink, a.uid,
                      a.gid, static_cast<unsigned long long>(a.size), static_cast<unsigned long long>(a.blocks),
                      static_cast<long long>(a.mtime_ns), static_cast<long long>(a.ctime_ns));
        out += line;
        if (S_ISDIR(a.mode)) todo.push_back({p, e.ino});
        if (S_ISLNK(a.mode)) {
          fs::Request q2;
          q2.op = fs::Op::kReadlink;
          q2.ino = e.ino;
          out += " -> " + query(q2).data;
        }
        if (S_ISREG(a.mode)) {
          Checksummer sum(0);
          for (uint64_t off = 0; off < a.size; off += fs::kReadMaxBytes) {
            fs::Request q2;
            q2.op = fs::Op::kRead;
            q2.ino = e.ino;
            q2.offset = off;
            q2.length = fs::kReadMaxBytes;
            fs::Reply d = query(q2);
            if (d.err != 0) return Status::Corruption("read of /" + p + ": errno " + std::to_string(d.err));
            sum.Update(d.data);
          }
          char h[32];
          std::snprintf(h, sizeof h, " data=%016llx", static_cast<unsigned long long>(sum.Digest()));
          out += h;
        }
        fs::Request lx;
        lx.op = fs::Op::kListxattr;
        lx.ino = e.ino;
        fs::Reply names = query(lx);
        size_t pos = 0;
        while (names.err == 0 && pos < names.data.size()) {
          size_t nul = names.data.find('\0', pos);
          std::string n = names.data.substr(pos, nul == std::string::npos ? std::string::npos : nul - pos);
          pos = nul == std::string::npos ? names.data.size() : nul + 1;
          fs::Request gx;
          gx.op = fs::Op::kGetxattr;
          gx.ino = e.ino;
          gx.name = n;
          fs::Reply v = query(gx);
          char h[32];
          std::snprintf(h, sizeof h, "=%016llx", static_cast<unsigned long long>(Checksum64(v.data, 0)));
          out += " x:" + n + h;
        }
        out += "\n";
      }
    }
  }
  return out;
}

}  // namespace baton::torture
