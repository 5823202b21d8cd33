// Raw samples merged while sampling, replayed at stop() (see raw_stacks.h).
#include "raw_stacks.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "interpreter_frame.h"

namespace perfprofile {

void RawStacks::Consume(Ring* ring, size_t nvalues, CodeMap* map) {
  std::lock_guard<std::mutex> lock(mu_);
  ring->Drain([&](const uint64_t* rec) {
    uint64_t seq = rec[kRecSeq];
    uint64_t epoch = CodeMap::Epoch(seq);
    // Key: epoch, then the record from kRecVmState on, minus the values (they are summed).
    uint64_t head[kRecValues];
    memcpy(head, rec, sizeof head);
    // The interpreter-frame slots are whatever fp-32/fp-40 hold, often spilled values of an
    // optimized frame that change at every sample. CodeMap::AddSample reads them only when
    // the BytecodeArray slot is tagged (odd) and names a BYTE_CODE entry of the map at the
    // sample's seq (exactly kInterpreterFrame.bytecode_header bytes in), and the offset slot
    // only as a Smi (low half 0) or as tagged (odd, a baseline frame): keep what it can read,
    // fold the rest to one value each, so such samples merge. code_starts_ holds every entry
    // start the map can have at this record's seq once the events logged so far are collected
    // (the events numbered before the record are all logged by now: OnEvent numbers and logs
    // under one lock).
    auto may_name_code = [&](uint64_t tagged) {
      uintptr_t first = FirstBytecode(static_cast<uintptr_t>(tagged));
      if (code_starts_.count(first) != 0) return true;
      map->CollectCodeStarts(&code_starts_, &code_cursor_);
      return code_starts_.count(first) != 0;
    };
    if ((head[kRecBytecode] & 1) == 0 || !may_name_code(head[kRecBytecode])) {
      head[kRecBytecode] = 0;
      head[kRecBcOffset] = 0;
    } else if ((head[kRecBcOffset] & 1) == 1) {
      head[kRecBcOffset] = 1;
    } else if ((head[kRecBcOffset] & 0xffffffffu) != 0) {
      head[kRecBcOffset] = 2;  // neither a Smi nor tagged: rejected by AddSample either way
    }
    key_.assign(reinterpret_cast<const char*>(&epoch), sizeof epoch);
    key_.append(reinterpret_cast<const char*>(head + kRecVmState),
                (kRecValues - kRecVmState) * sizeof(uint64_t));
    key_.append(reinterpret_cast<const char*>(rec + kRecValues + nvalues),
                rec[kRecStored] * sizeof(uint64_t));
    Aggregate& a = aggregates_[key_];
    a.seq = std::max(a.seq, seq);
    a.count++;
    for (size_t i = 0; i < nvalues; i++) a.values[i] += rec[kRecValues + i];
  });
}

void RawStacks::Replay(CodeMap* map, size_t nvalues, uint32_t depth, const Fixes& fixes) {
  std::lock_guard<std::mutex> lock(mu_);
  // Sequence order, as the code-event log is replayed: an aggregate stands at its largest seq,
  // and no code event lies between its samples, so each sees the map its samples saw.
  std::vector<const std::pair<const std::string, Aggregate>*> order;
  order.reserve(aggregates_.size());
  for (const auto& kv : aggregates_) order.push_back(&kv);
  std::sort(order.begin(), order.end(),
            [](const auto* a, const auto* b) { return a->second.seq < b->second.seq; });
  constexpr size_t kHead = 1 + (kRecValues - kRecVmState);  // epoch + header words
  std::vector<uint64_t> words;
  for (const auto* kv : order) {
    const std::string& key = kv->first;
    words.resize(key.size() / sizeof(uint64_t));
    memcpy(words.data(), key.data(), words.size() * sizeof(uint64_t));  // std::string data is not 8-aligned
    auto h = [&](size_t field) { return words[1 + field - kRecVmState]; };  // a header field
    CodeMap::RawSample s;
    s.seq = kv->second.seq;
    s.count = kv->second.count;
    s.vm_state = static_cast<int>(h(kRecVmState));
    s.pc = h(kRecPc);
    s.external = h(kRecExternal);
    s.bytecode = h(kRecBytecode);
    s.bc_offset = h(kRecBcOffset);
    s.owner_bytecode = h(kRecOwnerBytecode);
    s.total = h(kRecTotal);
    s.nframes = h(kRecStored);
    s.values = kv->second.values;
    s.nvalues = nvalues;
    s.frames = words.data() + kHead;
    s.depth = depth;
    map->AddSample(s, fixes);
  }
  replayed_ = aggregates_.size();
  aggregates_.clear();
}

}  // namespace perfprofile
