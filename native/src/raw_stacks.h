// Identical raw samples, merged while sampling and replayed in sequence order at stop().
// The consumer thread merges; stop() replays into the code map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "codemap.h"
#include "ring.h"

namespace perfprofile {

/**
 * Identical raw samples, merged. Key: the code-event epoch of the samples' sequence numbers
 * (CodeMap::Epoch) followed by the record's words from kRecVmState to the last frame, values
 * excluded. Samples with the same key saw the same code map (no code event was numbered between
 * them), so replaying them once, at the largest seq, with their count and summed values names
 * them exactly as replaying each would.
 */
struct Aggregate {
  uint64_t seq = 0;    // largest seq of the merged samples
  uint64_t count = 0;  // samples merged
  uint64_t values[kMaxEvents + 1] = {};
};

class RawStacks {
 public:
  /** Moves the ring's committed records into aggregates (the consumer thread, then stop()). */
  void Consume(Ring* ring, size_t nvalues, CodeMap* map);
  /** Replays the aggregates into the map in seq order, and forgets them (stop(), JS thread). */
  void Replay(CodeMap* map, size_t nvalues, uint32_t depth, const Fixes& fixes);
  /** Aggregates replayed: distinct (epoch, raw stack) keys (diagnostics). */
  size_t replayed() const { return replayed_; }

 private:
  // Guarded by mu_ (the consumer thread, then stop()); the signal handler never takes it.
  std::mutex mu_;
  std::unordered_map<std::string, Aggregate> aggregates_;
  std::string key_;
  std::unordered_set<uintptr_t> code_starts_;  // CodeMap::CollectCodeStarts, for Consume
  size_t code_cursor_ = 0;
  size_t replayed_ = 0;
};

}  // namespace perfprofile
