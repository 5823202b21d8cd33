// The sampler of one JS thread: its trigger (a perf_event group or a thread CPU-time timer),
// the ring its signal handler writes raw samples into, and the code-event log that lets
// stop() name them. The path of a sample: trigger.cc (signal → ring) → codemap.cc (ring +
// code events, replayed in sequence order → folded, named stacks) → addon.cc (JS objects).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <signal.h>
#include <v8.h>

#include "codemap.h"
#include "interpreter_frame.h"

namespace perfprofile {

constexpr int kMaxEvents = 8;

/** One event to open with perf_event_open. */
struct PerfEventSpec {
  uint32_t type;
  uint64_t config;
};


struct SamplerOptions {
  bool timer = false;                   // timer_create(CLOCK_THREAD_CPUTIME_ID) instead of perf
  std::vector<PerfEventSpec> events;    // perf: sampling event first; timer: events read per sample
  uint64_t period = 1000000;            // ns (timer, clock events) or events between samples
  bool kernel = false;
  int precise = 0;
  uint32_t depth = 128;
  size_t ring_bytes = 8u << 20;  // drained every 50 ms (or when half full): ~1.6 s of 20 kHz deep stacks
  Fixes fixes;
  /** When set, the consumer thread rewrites this file with the sample count every 250 ms. */
  std::string progress_path;
};

/**
 * Single-producer, single-consumer ring of 64-bit words. The producer is the signal handler on
 * the JS thread; the consumer is the sampler's consumer thread while sampling, then (after that
 * thread was joined) the JS thread at stop(). The producer publishes a record by a release store
 * of head_ after writing it, the consumer frees one by a release store of tail_ after reading
 * it; each acquires the other's index, so neither sees the other's half-written words. A record
 * never wraps: a zero word where the next record would start (or the end of the buffer) means
 * "continue at 0"; it is written before the head_ store that publishes the record at 0, and the
 * consumer reads it only once head_ has moved off that position. Lock-free atomics only: the
 * producer side is async-signal-safe.
 */
class Ring {
 public:
  explicit Ring(size_t words);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  /** Reserves n words for a record (async-signal-safe); nullptr when full. */
  uint64_t* Reserve(size_t n);
  void Commit(size_t n);
  /** Words between the consumer and the producer (producer side, async-signal-safe). */
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
  size_t reserved_at_ = 0;
};

// Raw sample record layout (words). Frames follow the header, innermost first.
enum RecordField : size_t {
  kRecLen,        // total words in this record
  kRecSeq,        // position in the shared code-event/sample sequence
  kRecVmState,
  kRecPc,
  kRecExternal,   // SampleInfo::external_callback_entry
  kRecBytecode,   // tagged BytecodeArray read from the interpreter frame (frameless fix), or 0
  kRecBcOffset,   // its Smi bytecode offset
  kRecOwnerBytecode,  // BytecodeArray slot of the frame V8 reported as frames[0] (fp chain), or 0
  kRecTotal,      // frames V8 reported (before cutting to depth)
  kRecStored,     // frames stored below
  kRecValues,     // first of nvalues event values (weights); frames follow
};

/**
 * Identical raw samples, merged by the consumer thread while sampling. Key: the code-event epoch
 * of the samples' sequence numbers (CodeMap::Epoch) followed by the record's words from
 * kRecVmState to the last frame, values excluded. Samples with the same key saw the same code
 * map (no code event was numbered between them), so replaying them once, at the largest seq,
 * with their count and summed values names them exactly as replaying each would.
 */
struct Aggregate {
  uint64_t seq = 0;    // largest seq of the merged samples
  uint64_t count = 0;  // samples merged
  uint64_t values[kMaxEvents + 1] = {};
};

class Sampler {
 public:
  Sampler(v8::Isolate* isolate, SamplerOptions options);
  ~Sampler();
  /** Opens the trigger and starts sampling; returns 0 or an errno, with *what naming the call. */
  int Start(std::string* what);
  /** Stops sampling (idempotent), drains the ring and replays it against the code events. */
  void Stop();
  bool running() const { return running_; }
  uint64_t samples() const { return taken_.load(std::memory_order_relaxed); }
  uint64_t lost() const;
  /** Aggregates replayed at stop(): distinct (epoch, raw stack) keys (diagnostics). */
  size_t aggregates() const { return replayed_; }
  const SamplerOptions& options() const { return options_; }
  CodeMap& codemap() { return codemap_; }
  uint64_t start_ns() const { return start_ns_; }
  uint64_t stop_ns() const { return stop_ns_; }

  // Called from the signal handler only.
  /** overrun: timer expirations folded into this signal (its weight is period × (1 + overrun)). */
  void OnSignal(void* ucontext, uint64_t overrun);
  /** The thread this sampler belongs to (signals are routed to it). */
  pid_t tid() const { return tid_; }

 private:
  /** Moves committed records from the ring into aggregates_ (consumer side). */
  void Consume();
  /** Replays aggregates_ in seq order into the code map (stop(), JS thread). */
  void Replay();
  void Close();
  // The consumer thread (never the signal handler): drains the ring every kDrainMs, or at once
  // when the handler finds the ring half full (it writes wake_fd_, an eventfd: write() is
  // async-signal-safe), and writes samples() into options_.progress_path every 250 ms.
  void StartConsumer();
  void StopConsumer();
  void WriteProgress();

  v8::Isolate* isolate_;
  SamplerOptions options_;
  pid_t tid_ = 0;
  int slot_ = -1;
  int fds_[kMaxEvents];
  int nfds_ = 0;
  int read_fd_ = -1;     // group leader to read values from at each sample, or -1
  int nvalues_ = 0;      // values per record: the weight, then one per extra event
  timer_t timer_{};
  bool have_timer_ = false;
  bool running_ = false;
  Ring ring_;
  void** scratch_;
  size_t scratch_cap_;
  uint64_t last_[kMaxEvents] = {};
  std::atomic<uint64_t> taken_{0};
  std::atomic<uint64_t> ring_lost_{0};
  uint64_t overflow_at_start_ = 0;
  uint64_t overflow_at_stop_ = 0;
  uint64_t start_ns_ = 0;
  uint64_t stop_ns_ = 0;
  uintptr_t stack_lo_ = 0, stack_hi_ = 0;
  CodeMap codemap_;
  std::thread consumer_;
  std::atomic<bool> consumer_stop_{false};
  std::atomic<bool> wake_pending_{false};  // the handler wrote wake_fd_ and the thread has not woken yet
  int wake_fd_ = -1;
  int progress_fd_ = -1;
  // Guarded by agg_mu_ (the consumer thread, then stop()); the signal handler never takes it.
  std::mutex agg_mu_;
  std::unordered_map<std::string, Aggregate> aggregates_;
  std::string agg_key_;
  std::unordered_set<uintptr_t> code_starts_;  // CodeMap::CollectCodeStarts, for Consume
  size_t code_cursor_ = 0;
  size_t replayed_ = 0;
};

/** errno of opening (then closing) the event on this thread; 0 when it can be used. */
int ProbePerfEvent(const PerfEventSpec& e, bool kernel, int precise);
/** errno of creating a thread CPU-time timer. */
int ProbeTimer();

/** Counting-mode group: totals of each event on this thread between Start and Stop. */
class Counters {
 public:
  explicit Counters(std::vector<PerfEventSpec> events) : events_(std::move(events)) {}
  ~Counters();
  int Start(std::string* what);
  /** Totals, scaled by time enabled/running if the PMU multiplexed them. */
  std::vector<double> Stop();

 private:
  std::vector<PerfEventSpec> events_;
  std::vector<int> fds_;
};

/** Signal used for samples: SIGRTMIN+3 (Node uses SIGRTMIN-1 .. and 27 during V8's profiler). */
int SampleSignal();

}  // namespace perfprofile
