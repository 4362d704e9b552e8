// The repair planner and the names of repair actions (fs/repair.h). The
// actions themselves are applied by fs/apply_repair.cc.
#include "fs/repair.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

namespace baton::fs {
namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

bool IsStructural(const std::string& kind) {
  static const std::set<std::string> kinds{
      "bad-record", "dangling-dentry", "dentry-parent", "dentry-type", "dir-hardlink", "dircookie", "xattr-owner",
      "chunk-owner", "chunk-beyond-eof", "orphan", "reply-session", "reply-pruned", "reply-future"};
  return kinds.count(kind) != 0;
}

Request Entry(RepairAction a, Ino parent, const std::string& name) {
  Request r = MakeRepair(a);
  r.parent = parent;
  r.name = name;
  return r;
}

Request DropKey(const CheckProblem& p) {
  Request r = MakeRepair(RepairAction::kDropKey);
  r.length = static_cast<uint64_t>(p.db);
  r.data = p.key;
  return r;
}

// Round 1: one action per problem.
void PlanStructure(const std::vector<CheckProblem>& problems, RepairPlan* plan) {
  for (const CheckProblem& p : problems) {
    if (!IsStructural(p.kind)) continue;
    if (p.db != StoreDb::kNone) {
      plan->actions.push_back(DropKey(p));
    } else if (p.kind == "dangling-dentry" || p.kind == "dentry-parent" || p.kind == "dir-hardlink") {
      plan->actions.push_back(Entry(RepairAction::kDropEntry, p.parent, p.name));
    } else if (p.kind == "dentry-type") {
      plan->actions.push_back(Entry(RepairAction::kFixEntryType, p.parent, p.name));
    } else if (p.kind == "dircookie") {
      plan->actions.push_back(Entry(RepairAction::kFixCookie, p.parent, p.name));
    } else if (p.kind == "chunk-beyond-eof") {
      Request r = MakeRepair(RepairAction::kExtendSize);
      r.ino = p.ino;
      r.offset = p.value;
      plan->actions.push_back(r);
    } else {
      CheckProblem u = p;
      u.message += " (no repair for this)";
      plan->unrepairable.push_back(u);
    }
  }
}

// Round 2. Tops of detached trees (nothing names them) go to /lost+found;
// their subtrees come along. Detached directories that all name each other
// in a cycle have no top: the cycle is cut at its lowest inode (its entry is
// dropped), which makes it a top for the next round.
void PlanConnect(const std::vector<CheckProblem>& problems, Ino lost_found, bool lost_found_is_dir, Ino next_ino,
                 RepairPlan* plan) {
  std::vector<Ino> tops;
  std::map<Ino, const CheckProblem*> in_cycle_candidates;  // detached directories named by another
  for (const CheckProblem& p : problems) {
    if (p.kind != "unreachable") continue;
    if (p.ino == 0 || p.ino == kRootIno) {
      CheckProblem u = p;
      u.message += ": the root directory is gone; rebuild from a backup";
      plan->unrepairable.push_back(u);
      return;
    }
    if (p.value == 0) tops.push_back(p.ino);
    else if (p.parent != 0) in_cycle_candidates[p.ino] = &p;
  }
  if (tops.empty()) {
    // Follow '..'-by-entry links among the candidates; a walk that returns to
    // a directory it met has found a cycle.
    std::set<Ino> done;
    for (auto& [start, unused] : in_cycle_candidates) {
      std::vector<Ino> path;
      Ino at = start;
      while (at != 0 && !done.count(at) && in_cycle_candidates.count(at) &&
             std::find(path.begin(), path.end(), at) == path.end()) {
        path.push_back(at);
        at = in_cycle_candidates[at]->parent;
      }
      auto loop = std::find(path.begin(), path.end(), at);
      if (at != 0 && loop != path.end()) {
        Ino low = *std::min_element(loop, path.end());
        const CheckProblem* p = in_cycle_candidates[low];
        plan->actions.push_back(Entry(RepairAction::kDropEntry, p->parent, p->name));
      }
      done.insert(path.begin(), path.end());
    }
    return;
  }
  if (lost_found != 0 && !lost_found_is_dir) {
    CheckProblem u;
    u.kind = "unreachable";
    u.message = "/" + std::string(kLostFoundName) + " is not a directory: rename it so detached inodes can be moved there";
    plan->unrepairable.push_back(u);
    return;
  }
  if (lost_found == 0) {
    Request mk;
    mk.op = Op::kMkdir;
    mk.parent = kRootIno;
    mk.name = kLostFoundName;
    mk.mode = S_IFDIR | 0700;
    plan->actions.push_back(mk);
    plan->mkdir_ino = lost_found = next_ino;
  }
  std::sort(tops.begin(), tops.end());
  for (Ino ino : tops) {
    Request r = MakeRepair(RepairAction::kLinkLostFound);
    r.ino = ino;
    r.parent = lost_found;
    plan->actions.push_back(r);
  }
}

// Round 3: counts.
void PlanCounts(const std::vector<CheckProblem>& problems, RepairPlan* plan) {
  bool volume = false;
  for (const CheckProblem& p : problems) {
    Request r;
    if (p.kind == "nlink") {
      r = MakeRepair(RepairAction::kSetNlink);
      r.offset = p.value;
    } else if (p.kind == "dotdot") {
      r = MakeRepair(RepairAction::kSetDotdot);
      r.parent = p.parent;
    } else if (p.kind == "stored-bytes") {
      r = MakeRepair(RepairAction::kRecountStored);
    } else {
      volume = volume || p.kind == "state";
      continue;
    }
    r.ino = p.ino;
    plan->actions.push_back(r);
  }
  // Last: it recounts what the actions before it changed.
  if (volume || !plan->actions.empty()) plan->actions.push_back(MakeRepair(RepairAction::kRecountVolume));
}

}  // namespace

const char* RepairActionName(RepairAction a) {
  switch (a) {
    case RepairAction::kDropKey: return "drop-record";
    case RepairAction::kDropEntry: return "drop-entry";
    case RepairAction::kFixEntryType: return "fix-entry-type";
    case RepairAction::kFixCookie: return "fix-cookie";
    case RepairAction::kExtendSize: return "extend-size";
    case RepairAction::kLinkLostFound: return "link-lost+found";
    case RepairAction::kSetNlink: return "set-nlink";
    case RepairAction::kSetDotdot: return "set-dotdot";
    case RepairAction::kRecountStored: return "recount-stored-bytes";
    case RepairAction::kRecountVolume: return "recount-volume";
  }
  return "unknown";
}

Request MakeRepair(RepairAction a) {
  Request r;
  r.op = Op::kRepair;
  r.flags = static_cast<uint32_t>(a);
  return r;
}

std::string DescribeRepair(const Request& q) {
  if (q.op == Op::kMkdir) return "mkdir /" + q.name;
  if (q.op == Op::kReclaim) return "reclaim orphan ino " + Num(q.ino);
  const auto a = static_cast<RepairAction>(q.flags);
  std::string s = RepairActionName(a);
  switch (a) {
    case RepairAction::kDropKey: {
      s += std::string(" ") + StoreDbName(static_cast<StoreDb>(q.length)) + " key ";
      static const char* hex = "0123456789abcdef";
      for (unsigned char ch : q.data.substr(0, 40)) s += {hex[ch >> 4], hex[ch & 15]};
      if (q.data.size() > 40) s += "...";
      return s;
    }
    case RepairAction::kDropEntry: case RepairAction::kFixEntryType: case RepairAction::kFixCookie:
      return s + " " + Num(q.parent) + "/" + q.name;
    case RepairAction::kExtendSize: return s + " ino " + Num(q.ino) + " to " + Num(q.offset);
    case RepairAction::kLinkLostFound: return s + " ino " + Num(q.ino) + " as /" + kLostFoundName + "/#" + Num(q.ino);
    case RepairAction::kSetNlink: return s + " ino " + Num(q.ino) + " to " + Num(q.offset);
    case RepairAction::kSetDotdot: return s + " ino " + Num(q.ino) + " to " + Num(q.parent);
    case RepairAction::kRecountStored: return s + " ino " + Num(q.ino);
    case RepairAction::kRecountVolume: return s;
  }
  return s + " (unknown action " + Num(q.flags) + ")";
}

RepairPlan PlanRepairs(const std::vector<CheckProblem>& problems, Ino lost_found, bool lost_found_is_dir,
                       Ino next_ino) {
  RepairPlan plan;
  PlanStructure(problems, &plan);
  // Wrong volume counters (next_ino not above every inode, used_bytes off)
  // are recounted before /lost+found is made: its mkdir takes next_ino and
  // is charged against used_bytes.
  bool state = false, detached = false;
  for (const CheckProblem& p : problems) state = state || p.kind == "state", detached = detached || p.kind == "unreachable";
  if (state && (detached || !plan.actions.empty())) plan.actions.push_back(MakeRepair(RepairAction::kRecountVolume));
  if (!plan.actions.empty() || !plan.unrepairable.empty()) return plan;
  PlanConnect(problems, lost_found, lost_found_is_dir, next_ino, &plan);
  if (!plan.actions.empty() || !plan.unrepairable.empty()) return plan;
  PlanCounts(problems, &plan);
  return plan;
}

}  // namespace baton::fs
