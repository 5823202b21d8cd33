// The ring the signal handler writes raw samples into, and the layout of a raw sample record.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace perfprofile {

/** Perf events one sampler reads at most; a record holds the weight and up to this many values. */
constexpr int kMaxEvents = 8;

/**
 * Single-producer, single-consumer ring of 64-bit words. The producer is the signal handler on
 * the JS thread; the consumer is the sampler's consumer thread while sampling, then (after that
 * thread was joined) the JS thread at stop(). The producer publishes a record by a release store
 * of head_ after writing it, the consumer frees one by a release store of tail_ after reading
 * it; each acquires the other's index, so neither sees the other's half-written words. A record
 * never wraps: a zero word where the next record would start (or the end of the buffer) means
 * "continue at 0"; it is written before the head_ store that publishes the record at 0, and the
 * consumer reads it only once head_ has moved off that position.
 */
class Ring {
 public:
  explicit Ring(size_t words) : buf_(new uint64_t[words]), cap_(words) {}
  ~Ring() { delete[] buf_; }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Producer side: defined in signal_handler.cc, with everything else that runs in the handler.
  /** Reserves n words for a record; nullptr when full. */
  uint64_t* Reserve(size_t n);
  /** Publishes the record reserved last. */
  void Commit(size_t n);
  /** Words between the consumer and the producer (an upper bound). */
  size_t Used() const;
  size_t capacity() const { return cap_; }

  /** Calls f(record) for each committed record, oldest first, and frees them. Consumer only. */
  template <typename F>
  void Drain(F f);

 private:
  uint64_t* buf_;
  size_t cap_;
  std::atomic<size_t> head_{0};  // next write (producer)
  std::atomic<size_t> tail_{0};  // next read (consumer)
  size_t reserved_at_ = 0;       // producer only
};

// Raw sample record layout (words). Frames follow the values, innermost first.
enum RecordField : size_t {
  kRecLen,  // total words in this record
  kRecSeq,  // position in the shared code-event/sample sequence
  kRecVmState,
  kRecPc,
  kRecExternal,       // SampleInfo::external_callback_entry
  kRecBytecode,       // tagged BytecodeArray read from the interpreter frame (frameless fix), or 0
  kRecBcOffset,       // its Smi bytecode offset
  kRecOwnerBytecode,  // BytecodeArray slot of the frame V8 reported as frames[0] (fp chain), or 0
  kRecTotal,          // frames V8 reported (before cutting to depth)
  kRecStored,         // frames stored below
  kRecValues,         // first of nvalues event values (weights); frames follow
};

template <typename F>
void Ring::Drain(F f) {
  for (;;) {
    size_t h = head_.load(std::memory_order_acquire);
    size_t t = tail_.load(std::memory_order_relaxed);
    if (t == h) return;
    if (t == cap_ || buf_[t] == 0) {
      tail_.store(0, std::memory_order_release);
      continue;
    }
    size_t len = buf_[t];
    f(buf_ + t);
    tail_.store(t + len, std::memory_order_release);  // the producer may reuse these words now
  }
}

}  // namespace perfprofile
