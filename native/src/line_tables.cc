// Line tables and inlined-function inference (see line_tables.h).
#include "line_tables.h"

#include <algorithm>
#include <map>
#include <utility>

#include "names.h"

namespace perfprofile {

namespace {

using RawRows = std::vector<std::pair<uint32_t, int32_t>>;  // (code offset, script offset)

// Tables recorded and not yet claimed by a CODE_ADDED, by (isolate, code start). V8 sends a
// code object's table just before its CODE_ADDED (bytecode: the tables of a compile job's
// eagerly compiled functions first, then their CODE_ADDEDs). Some tables never get one: source
// positions collected later for existing bytecode come from a temporary copy, and an optimized
// compile may be abandoned after code generation. Their addresses are reused by later code, so
// a table is claimed only in the batch it was recorded in: the first CODE_ADDED with no table
// of its own ends the batch and drops what is left, and a recording with no rows drops the
// table at its address.
constexpr size_t kMaxUnclaimed = 4096;
struct Unclaimed {
  std::map<uintptr_t, RawRows> tables;
  bool adding = false;  // a CODE_ADDED came since the last recording: a new recording starts a batch
};
std::mutex g_unclaimed_mu;
std::map<v8::Isolate*, Unclaimed> g_unclaimed;

// A FunctionIndex's verdict cache bound: tables of code looked up in one profile.
constexpr size_t kMaxVerdictTables = 4096;

// Positions of an optimized table a candidate inlinee must hold: a quarter of its own, up to
// this many. Script offsets carry no script, so a larger function elsewhere (a module wrapper)
// holds one or two of them by coincidence; an inlined function brings its body along.
constexpr size_t kEnoughSupport = 3;

// The function start a code name ends with ("JS:~mix file:///a.mjs:9:20" → 9, 20).
bool StartOf(const std::string& name, int32_t* line, int32_t* column) {
  size_t c2 = name.rfind(':');
  if (c2 == std::string::npos || c2 == 0) return false;
  size_t c1 = name.rfind(':', c2 - 1);
  if (c1 == std::string::npos) return false;
  const std::string l = name.substr(c1 + 1, c2 - c1 - 1), c = name.substr(c2 + 1);
  if (l.empty() || c.empty() || l.size() > 9 || c.size() > 9) return false;
  for (char ch : l + c) {
    if (ch < '0' || ch > '9') return false;
  }
  *line = std::stoi(l);
  *column = std::stoi(c);
  return true;
}

}  // namespace

const LinePos* LineTable::At(uint32_t offset) const {
  auto it = std::upper_bound(rows.begin(), rows.end(), offset,
                             [](uint32_t o, const LinePos& r) { return o < r.pc; });
  if (it == rows.begin()) return nullptr;
  return &*std::prev(it);
}

bool LineRecorder::OnLineEvent(const v8::JitCodeEvent* e) {
  switch (e->type) {
    case v8::JitCodeEvent::CODE_START_LINE_INFO_RECORDING:
      // V8 hands user_data back with each row and at the end: the rows collected so far.
      const_cast<v8::JitCodeEvent*>(e)->user_data = new RawRows();
      return true;
    case v8::JitCodeEvent::CODE_ADD_LINE_POS_INFO: {
      auto* rows = static_cast<RawRows*>(e->user_data);
      // Statement positions repeat a position row at the same offset.
      if (rows != nullptr && e->line_info.position_type == v8::JitCodeEvent::POSITION)
        rows->emplace_back(static_cast<uint32_t>(e->line_info.offset),
                           static_cast<int32_t>(e->line_info.pos));
      return true;
    }
    case v8::JitCodeEvent::CODE_END_LINE_INFO_RECORDING: {
      std::unique_ptr<RawRows> rows(static_cast<RawRows*>(e->user_data));
      const uintptr_t start = reinterpret_cast<uintptr_t>(e->code_start);
      std::lock_guard<std::mutex> lock(g_unclaimed_mu);
      Unclaimed& u = g_unclaimed[e->isolate];
      if (u.adding) u.tables.clear();
      u.adding = false;
      if (!rows || rows->empty() || u.tables.size() >= kMaxUnclaimed) {
        u.tables.erase(start);
        return true;
      }
      u.tables[start] = std::move(*rows);
      return true;
    }
    default:
      return false;
  }
}

LineTablePtr LineRecorder::Claim(const v8::JitCodeEvent* e) {
  RawRows rows;
  {
    std::lock_guard<std::mutex> lock(g_unclaimed_mu);
    auto u = g_unclaimed.find(e->isolate);
    if (u == g_unclaimed.end()) return nullptr;
    u->second.adding = true;
    auto it = u->second.tables.find(reinterpret_cast<uintptr_t>(e->code_start));
    if (it == u->second.tables.end()) {
      u->second.tables.clear();  // the batch is over
      return nullptr;
    }
    rows = std::move(it->second);
    u->second.tables.erase(it);
  }
  // A table that does not fit the code is not its own.
  for (const auto& r : rows) {
    if (r.first > e->code_len) return nullptr;
  }
  auto table = std::make_shared<LineTable>();
  std::stable_sort(rows.begin(), rows.end());
  table->rows.reserve(rows.size());
  // Lines from the script of the code's function: V8 computed the code name's line from the
  // same script's line ends just before, so this looks them up without allocating them.
  std::unordered_map<int32_t, std::pair<int32_t, int32_t>> lines;
  v8::HandleScope scope(e->isolate);
  v8::Local<v8::UnboundScript> script = e->script;
  if (!script.IsEmpty()) table->script_id = script->GetId();
  for (const auto& r : rows) {
    auto found = lines.find(r.second);
    if (found == lines.end()) {
      int32_t line = 0, column = 0;
      if (!script.IsEmpty() && r.second >= 0) {
        line = script->GetLineNumber(r.second) + 1;
        column = script->GetColumnNumber(r.second) + 1;
      }
      found = lines.emplace(r.second, std::make_pair(line, column)).first;
    }
    table->rows.push_back({r.first, r.second, found->second.first, found->second.second});
  }
  // Bytecode runs its own function only: a position before the function's start (its code
  // name's line:column) says the table is another's.
  if (e->code_type == v8::JitCodeEvent::BYTE_CODE) {
    int32_t line = 0, column = 0;
    if (StartOf(std::string(e->name.str, e->name.len), &line, &column)) {
      for (const LinePos& r : table->rows) {
        if (r.line > 0 && (r.line < line || (r.line == line && r.column < column))) return nullptr;
      }
    }
  }
  return table;
}

void LineRecorder::Forget(v8::Isolate* isolate) {
  std::lock_guard<std::mutex> lock(g_unclaimed_mu);
  g_unclaimed.erase(isolate);
}

const LinePos* FunctionIndex::Function::Find(int32_t pos) const {
  auto it = std::lower_bound(positions.begin(), positions.end(), pos,
                             [](const LinePos& r, int32_t p) { return r.pos < p; });
  return it != positions.end() && it->pos == pos ? &*it : nullptr;
}

void FunctionIndex::AddBytecode(const std::string& code_name, const LineTablePtr& table) {
  if (!table) return;
  Function f;
  f.code_name = code_name;
  f.script_id = table->script_id;
  f.positions = table->rows;
  std::sort(f.positions.begin(), f.positions.end(),
            [](const LinePos& a, const LinePos& b) { return a.pos < b.pos; });
  f.positions.erase(std::unique(f.positions.begin(), f.positions.end(),
                                [](const LinePos& a, const LinePos& b) { return a.pos == b.pos; }),
                    f.positions.end());
  std::string key = FunctionKeyOf(code_name);
  std::lock_guard<std::mutex> lock(mu_);
  auto found = by_key_.find(key);
  int32_t id;
  if (found != by_key_.end()) {
    // Recompiled (e.g. after bytecode flushing): the same function, maybe other positions.
    id = found->second;
    for (const LinePos& p : functions_[id].positions) {
      auto& holders = by_pos_[p.pos];
      holders.erase(std::remove(holders.begin(), holders.end(), id), holders.end());
    }
    functions_[id] = std::move(f);
  } else {
    id = static_cast<int32_t>(functions_.size());
    functions_.push_back(std::move(f));
    by_key_.emplace(std::move(key), id);
  }
  for (const LinePos& p : functions_[id].positions) by_pos_[p.pos].push_back(id);
  verdicts_.clear();  // a new function may make a verdict ambiguous
}

size_t FunctionIndex::functions() {
  std::lock_guard<std::mutex> lock(mu_);
  return functions_.size();
}

// The rules (docs/PERFORMANCE.md, "Inline chains"): a position in the physical function's own
// bytecode positions is its own line, unless a function that other positions of this code
// point to (a plausible inlinee) holds it too. A position outside them goes to the function
// holding the most positions of this code outside the physical function's, if exactly one
// does. No bytecode table for the physical function: no verdict (its own positions would look
// like anyone's). A function whose positions surround the physical function's in its script
// encloses it (Vitest's module wrapper, a describe callback): it holds positions of the script
// around it, never one inlined into it, so it is no candidate. Nor is a function holding too
// few of this code's positions for its size (kEnoughSupport): that is a coincidence of offsets.
FunctionIndex::Verdicts FunctionIndex::Judge(const std::string& key, const LineTable& table) {
  Verdicts out;
  auto phys = by_key_.find(key);
  if (phys == by_key_.end()) return out;
  const int32_t p = phys->second;
  const Function& pf = functions_[p];
  auto encloses = [&](int32_t f) {
    const Function& ff = functions_[f];
    return f != p && ff.script_id >= 0 && ff.script_id == pf.script_id && !ff.positions.empty() &&
           !pf.positions.empty() && ff.positions.front().pos < pf.positions.front().pos &&
           ff.positions.back().pos > pf.positions.back().pos;
  };
  std::vector<int32_t> distinct;
  for (const LinePos& r : table.rows) distinct.push_back(r.pos);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::unordered_map<int32_t, int32_t> support;  // function → positions outside P's it holds
  for (int32_t pos : distinct) {
    if (functions_[p].Find(pos) != nullptr) continue;
    auto holders = by_pos_.find(pos);
    if (holders == by_pos_.end()) continue;
    for (int32_t f : holders->second)
      if (!encloses(f)) support[f]++;
  }
  for (auto it = support.begin(); it != support.end();) {
    const size_t own = functions_[it->first].positions.size();
    const size_t enough = std::min(kEnoughSupport, (own + 3) / 4);
    it = static_cast<size_t>(it->second) < enough ? support.erase(it) : std::next(it);
  }
  for (int32_t pos : distinct) {
    auto holders = by_pos_.find(pos);
    if (functions_[p].Find(pos) != nullptr) {
      bool contested = false;
      for (int32_t f : holders->second) contested |= f != p && support.count(f) != 0;
      if (!contested) out[pos] = Verdict{p, true};
      continue;
    }
    if (holders == by_pos_.end()) continue;
    int32_t best = -1, best_n = 0, second_n = 0;
    for (int32_t f : holders->second) {
      auto found = support.find(f);  // find, not []: an absent function must stay absent
      int32_t n = found == support.end() ? 0 : found->second;
      if (n > best_n) {
        second_n = best_n;
        best_n = n;
        best = f;
      } else if (n > second_n) {
        second_n = n;
      }
    }
    if (best >= 0 && best_n > second_n) out[pos] = Verdict{best, false};
  }
  return out;
}

Inference FunctionIndex::Infer(const std::string& code_name, const LineTablePtr& table, uint32_t offset) {
  Inference inf;
  if (!table) return inf;
  const LinePos* at = table->At(offset);
  if (at == nullptr) return inf;
  std::lock_guard<std::mutex> lock(mu_);
  auto cached = verdicts_.find(table.get());
  if (cached == verdicts_.end()) {
    if (verdicts_.size() >= kMaxVerdictTables) verdicts_.clear();
    cached =
        verdicts_.emplace(table.get(), std::make_pair(table, Judge(FunctionKeyOf(code_name), *table))).first;
  }
  auto v = cached->second.second.find(at->pos);
  if (v == cached->second.second.end()) return inf;
  if (v->second.own) {
    inf.line = at->line;
    inf.column = at->column;
    return inf;
  }
  const Function& f = functions_[v->second.fn];
  const LinePos* own = f.Find(at->pos);
  if (own == nullptr || own->line <= 0) return inf;
  inf.inlined = f.code_name;
  inf.inlined_line = own->line;
  inf.inlined_column = own->column;
  return inf;
}

}  // namespace perfprofile
