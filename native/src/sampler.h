// The sampler of one JS thread, and the path of a sample through this directory.
// A sampler has a trigger (a perf_event group, a thread CPU-time timer, or a helper thread
// watching the thread's CPU clock), the ring its signal handler writes raw samples into, and
// the code-event timeline that lets stop() name them.
// The path of a sample: trigger.cc and clock_helper.cc (perf overflow, timer or helper →
// signal) → signal_handler.cc
// (signal → ring) → consumer.cc and raw_stacks.cc (ring → merged raw stacks) → codemap.cc
// and stack_repair.cc (replayed with the code events → named, folded stacks) → js_profile.cc
// (JS objects).
#pragma once

#include <pthread.h>
#include <v8.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "codemap.h"
#include "raw_stacks.h"
#include "ring.h"
#include "stack_memo.h"
#include "trigger.h"

namespace perfprofile {

struct SamplerOptions {
  bool timer = false;                 // timer_create(CLOCK_THREAD_CPUTIME_ID) instead of perf
  bool clock_helper = false;          // a helper thread watches the thread's CPU clock (clock_helper.cc)
  std::vector<PerfEventSpec> events;  // perf: sampling event first; timer, helper: events read per sample
  uint64_t period = 1000000;          // ns (timer, clock events) or events between samples
  bool kernel = false;
  int precise = 0;
  uint32_t depth = 128;
  size_t ring_bytes = 8u << 20;  // drained every 50 ms, or when half full (docs/PERFORMANCE.md: Memory)
  Fixes fixes;
  MemoMode stack_memo = MemoMode::kOn;  // stack_memo.h
  // The handler only counts: the trigger's own cost to the thread, for scripts/bench's floor.
  bool signal_only = false;
  /** When set, the consumer thread rewrites this file with the sample count every 250 ms. */
  std::string progress_path;
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
  /** CPU time of the clock helper (clock_helper.cc) so far, or when it ended; 0 without one. */
  uint64_t helper_cpu_ns() const;
  /** Aggregates replayed at stop(): distinct (epoch, raw stack) keys (diagnostics). */
  size_t aggregates() const { return raw_stacks_.replayed(); }
  CodeMap& codemap() { return codemap_; }
  MemoCounts memo_counts() const { return memo_.counts(); }
  uint64_t start_ns() const { return start_ns_; }
  uint64_t stop_ns() const { return stop_ns_; }

  /**
   * Takes one sample (signal_handler.cc; the signal handler only). overrun: timer expirations
   * folded into this signal (its weight is period × (1 + overrun)).
   */
  void OnSignal(void* ucontext, uint64_t overrun);

 private:
  // The trigger (trigger.cc).
  int OpenEvents(std::string* what);
  /** Routes signals here and starts the trigger; on failure stops and returns the errno. */
  int Arm(std::string* what);
  void Disarm();
  void Close();
  bool counting() const { return options_.timer || options_.clock_helper; }

  // The cross-core CPU-time trigger (clock_helper.cc).
  int StartClockHelper(std::string* what);
  void StopClockHelper();
  void ClockHelperLoop();
  void CloseStatFd();

  // The steps of OnSignal (signal_handler.cc): async-signal-safe.
  struct FrameSlots {
    uintptr_t bytecode = 0;        // kRecBytecode
    uintptr_t bc_offset = 0;       // kRecBcOffset
    uintptr_t owner_bytecode = 0;  // kRecOwnerBytecode
  };
  FrameSlots ReadFrameSlots(uintptr_t sp, uintptr_t fp, uintptr_t first, bool have_first) const;
  void ReadValues(uint64_t overrun, uint64_t* values);
  void WakeConsumerIfHalfFull();

  // The consumer thread (consumer.cc; never the signal handler): drains the ring every 50 ms,
  // or at once when the handler finds the ring half full (it writes wake_fd_, an eventfd), and
  // writes samples() into options_.progress_path every 250 ms.
  void StartConsumer();
  void StopConsumer();
  void WriteProgress();
  /** Moves committed records from the ring into raw_stacks_. */
  void Consume();

  v8::Isolate* isolate_;
  SamplerOptions options_;
  pid_t tid_ = 0;
  int slot_ = -1;
  std::vector<int> fds_;  // the perf group, leader first (JS thread)
  int nfds_ = 0;          // fds_.size(), for the handler
  int read_fd_ = -1;      // group leader to read values from at each sample, or -1
  int nvalues_ = 0;       // values per record: the weight, then one per extra event
  timer_t timer_{};
  bool have_timer_ = false;
  clockid_t target_clock_{};  // this thread's CPU clock, read by the helper
  pthread_t helper_{};
  bool have_helper_ = false;
  int stat_fd_ = -1;  // /proc/self/task/<tid>/stat: the helper tells blocked from preempted
  std::atomic<bool> helper_stop_{false};
  std::atomic<uint64_t> helper_missed_{0};  // periods that passed without a signal
  std::atomic<uint64_t> helper_cpu_ns_{0};  // the helper's own CPU time, stored as it ends
  bool running_ = false;
  Ring ring_;
  void** scratch_;
  size_t scratch_cap_;
  StackMemo memo_;
  void** check_ = nullptr;  // V8's own walk of a replayed sample (MemoMode::kCheck)
  // Each event's value at the previous sample (handler only); the group is reset before it is
  // enabled, so 0 at start.
  uint64_t last_[kMaxEvents] = {};
  std::atomic<uint64_t> taken_{0};
  std::atomic<uint64_t> ring_lost_{0};
  uint64_t overflow_at_start_ = 0;
  uint64_t overflow_at_stop_ = 0;
  uint64_t start_ns_ = 0;
  uint64_t stop_ns_ = 0;
  uintptr_t stack_lo_ = 0, stack_hi_ = 0;
  CodeMap codemap_;
  RawStacks raw_stacks_;
  std::thread consumer_;
  std::atomic<bool> consumer_stop_{false};
  std::atomic<bool> wake_pending_{false};  // the handler wrote wake_fd_ and the thread has not woken yet
  int wake_fd_ = -1;
  int progress_fd_ = -1;
};

}  // namespace perfprofile
