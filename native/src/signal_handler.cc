// Everything that runs in signal context, each step commented with why it is safe there.
// The sample signal's handler, the capture of one sample into the ring (Sampler::OnSignal and
// its steps), the ring's producer side, and SIGIO.
//
// The invariants, for an audit: a handler may interrupt any code of its thread, including
// malloc, a lock holder, V8 mid-GC or our own consumer side, so code here
//  - calls only async-signal-safe functions: read(2), write(2), memset, memcpy,
//    v8::Isolate::GetStackSample, which V8 provides for signal handlers (no allocation, no lock),
//    and the stack memo's handler side (stack_memo.cc, under these same rules);
//  - allocates nothing, takes no lock and uses no TLS: its state is preallocated before the
//    trigger is armed (the Sampler, its ring and scratch buffer) and reached through
//    lock-free atomics (asserted below), found by si_fd or sival_int in static tables;
//  - reads the interrupted stack only within this thread's stack bounds, through StackWord;
//  - saves and restores errno.
// A sampler is reached only on its own thread (both triggers signal one thread), where it is
// also started, stopped and freed: it cannot go away while its handler runs.
// The part below "JS thread" installs the handlers and fills the tables; it never runs in one.
#include "signal_handler.h"

#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "interpreter_frame.h"
#include "sampler.h"

namespace perfprofile {

// A lock-free atomic is a plain instruction; one that fell back to a lock could deadlock
// against the code the signal interrupted.
static_assert(std::atomic<Sampler*>::is_always_lock_free, "routing tables must be lock-free");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "counters and the sequence must be lock-free");
static_assert(std::atomic<size_t>::is_always_lock_free, "ring indexes must be lock-free");
static_assert(std::atomic<bool>::is_always_lock_free, "the wake flag must be lock-free");

namespace {

constexpr int kMaxSlots = 256;

// The handler finds its sampler by si_fd (perf) or by the sival_int (slot + 1) of the timer or
// the clock helper. Set with
// a release store before the trigger is armed, cleared before its fd is closed (JS thread).
std::atomic<Sampler*> g_by_fd[kMaxRoutedFd];
std::atomic<Sampler*> g_by_slot[kMaxSlots];
// RT-queue overflows: the kernel sends SIGIO instead of the queued signal.
std::atomic<uint64_t> g_overflows{0};
// SIGIO's previous action, chained to; written by sigaction() when the handler is installed.
struct sigaction g_prev_sigio;

// ---- In the signal handler ------------------------------------------------------------------

// Finds the sampler the signal belongs to (two atomic loads from static tables) and samples.
void OnSampleSignal(int, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;  // read(2)/write(2) below may set it under the interrupted code
  Sampler* s = nullptr;
  if (info->si_code == SI_TIMER || info->si_code == SI_QUEUE) {  // timer, clock helper
    int slot = info->si_value.sival_int - 1;
    if (slot >= 0 && slot < kMaxSlots) s = g_by_slot[slot].load(std::memory_order_acquire);
  } else {
    int fd = info->si_fd;
    if (fd >= 0 && fd < kMaxRoutedFd) s = g_by_fd[fd].load(std::memory_order_acquire);
  }
  // A stale signal (queued before stop()) finds no sampler and is dropped.
  // A CPU-time timer only fires on scheduler ticks; expirations it skipped are its overrun.
  if (s != nullptr)
    s->OnSignal(ucontext, info->si_code == SI_TIMER && info->si_overrun > 0
                              ? static_cast<uint64_t>(info->si_overrun)
                              : 0);
  errno = saved_errno;
}

// Counts the overflow (one atomic add), then chains to the action SIGIO had before ours (whose
// safety is its owner's).
void OnSigio(int sig, siginfo_t* info, void* ucontext) {
  g_overflows.fetch_add(1, std::memory_order_relaxed);
  if ((g_prev_sigio.sa_flags & SA_SIGINFO) && g_prev_sigio.sa_sigaction != nullptr) {
    g_prev_sigio.sa_sigaction(sig, info, ucontext);
  } else if (g_prev_sigio.sa_handler != SIG_DFL && g_prev_sigio.sa_handler != SIG_IGN &&
             g_prev_sigio.sa_handler != nullptr) {
    g_prev_sigio.sa_handler(sig);
  }
}

// Follows the frame-pointer chain from fp: visit(f) for each frame record [f, f + 16) that is
// aligned and lies in [sp, hi), at most max_frames, while each saved fp points further up the
// stack (so the walk ends). visit returns false to stop. Returns the records visited.
template <typename Visit>
size_t WalkFrames(uintptr_t fp, uintptr_t sp, uintptr_t hi, size_t max_frames, Visit visit) {
  size_t n = 0;
  for (uintptr_t f = fp; n < max_frames && (f & 7) == 0 && f >= sp && f + 16 <= hi;) {
    n++;
    if (!visit(f)) break;
    uintptr_t next = StackWord(f);
    if (next <= f) break;
    f = next;
  }
  return n;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
__attribute__((no_sanitize_address, noinline)) uintptr_t StackWordExempt(uintptr_t addr) {
  return *reinterpret_cast<const uintptr_t*>(addr);
}
#endif

// Ring, producer side. Plain loads and stores of preallocated words, published by a release
// store of head_ (see ring.h).
uint64_t* Ring::Reserve(size_t n) {
  size_t h = head_.load(std::memory_order_relaxed);  // only this side writes it
  size_t t = tail_.load(std::memory_order_acquire);  // the consumer is done with words before t
  if (h >= t) {
    // Not restarted at 0 when empty: the producer would then have only [0, t) until the
    // consumer passed the marker at t, and lose samples.
    if (cap_ - h >= n) {
      reserved_at_ = h;
      return buf_ + h;
    }
    // Wrap: [0, t) is free. Leave a zero marker at h (if there is room for one; the consumer
    // treats the end of the buffer as one) and write at 0; strictly below t, so head_ never
    // catches up with tail_ (h == t means empty).
    if (n < t) {
      if (h < cap_) buf_[h] = 0;
      reserved_at_ = 0;
      return buf_;
    }
    return nullptr;
  }
  if (h + n < t) {
    reserved_at_ = h;
    return buf_ + h;
  }
  return nullptr;
}

void Ring::Commit(size_t n) {
  // Publishes the record's words (and a wrap marker) to the consumer thread.
  head_.store(reserved_at_ + n, std::memory_order_release);
}

size_t Ring::Used() const {
  size_t h = head_.load(std::memory_order_relaxed);
  size_t t = tail_.load(std::memory_order_acquire);
  return h >= t ? h - t : cap_ - t + h;  // counts the unused words before a wrap marker: an upper bound
}

// One sample: registers → seq → V8's stack (replayed or walked) → frame slots → event values →
// record in the ring.
void Sampler::OnSignal(void* ucontext, uint64_t overrun) {
  // running_ is written on this thread only (Start/Stop, with a signal fence): a plain read.
  if (!running_) return;
  if (options_.signal_only) {
    BumpFromHandler(taken_);
    return;
  }
  // The interrupted registers, from the signal frame the kernel wrote on this stack.
  const ucontext_t* uc = static_cast<const ucontext_t*>(ucontext);
  const uintptr_t pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  const uintptr_t sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  const uintptr_t fp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RBP]);
  // Stamp before walking: code events logged after this point are newer than this sample.
  const uint64_t seq = codemap_.SampleSeq();

  // V8's stack walk for signal handlers, into scratch_ (allocated with the sampler), or its
  // answer for an earlier sample of the same shape (stack_memo.h).
  v8::SampleInfo info;
  memset(&info, 0, sizeof info);
  const bool prepared = memo_.Prepare(pc, sp, fp);
  const bool replayed = prepared && memo_.Replay(scratch_, scratch_cap_, &info);
  if (!replayed || check_ != nullptr) {
    v8::RegisterState regs;
    regs.pc = reinterpret_cast<void*>(pc);
    regs.sp = reinterpret_cast<void*>(sp);
    regs.fp = reinterpret_cast<void*>(fp);
    regs.lr = nullptr;
    if (!replayed) {
      isolate_->GetStackSample(regs, scratch_, scratch_cap_, &info);
      memo_.Learn(scratch_, info);
    } else {
      // Check mode: compared, and V8's answer stands.
      v8::SampleInfo v8_info;
      memset(&v8_info, 0, sizeof v8_info);
      isolate_->GetStackSample(regs, check_, scratch_cap_, &v8_info);
      memo_.Compare(scratch_, info, check_, v8_info);
      info = v8_info;
      memcpy(scratch_, check_, v8_info.frames_count * sizeof(void*));
    }
  }

  // rbp is a general register in native code: require an aligned address on this stack.
  const bool fp_ok = (fp & 7) == 0 && fp >= sp && fp < stack_hi_;
  FrameSlots slots;
  if (kInterpreterFrame.verified && options_.fixes.frameless && fp_ok) {
    slots = ReadFrameSlots(sp, fp, info.frames_count > 0 ? reinterpret_cast<uintptr_t>(scratch_[0]) : 0,
                           info.frames_count > 0);
  }

  uint64_t values[kMaxEvents + 1];
  ReadValues(overrun, values);

  size_t total = info.frames_count;
  if (total > options_.depth && fp_ok) {
    // Cut: count the rest by the frame-pointer chain (JS frames always keep rbp) instead of
    // letting V8 walk them all, which for very deep stacks costs more than a sampling interval.
    // May include a few native frames below the JS entry.
    size_t n = WalkFrames(fp, sp, stack_hi_, size_t(1) << 22, [](uintptr_t) { return true; });
    if (n > total) total = n;
  }
  size_t stored = total < options_.depth ? total : options_.depth;
  size_t words = kRecValues + static_cast<size_t>(nvalues_) + stored;
  uint64_t* rec = ring_.Reserve(words);
  if (rec == nullptr) {
    BumpFromHandler(ring_lost_);
    return;
  }
  rec[kRecLen] = words;
  rec[kRecSeq] = seq;
  rec[kRecVmState] = static_cast<uint64_t>(info.vm_state);
  rec[kRecPc] = pc;
  rec[kRecExternal] = reinterpret_cast<uintptr_t>(info.external_callback_entry);
  rec[kRecBytecode] = slots.bytecode;
  rec[kRecBcOffset] = slots.bc_offset;
  rec[kRecOwnerBytecode] = slots.owner_bytecode;
  rec[kRecTotal] = total;
  rec[kRecStored] = stored;
  for (int i = 0; i < nvalues_; i++) rec[kRecValues + i] = values[i];
  uint64_t* frames = rec + kRecValues + nvalues_;
  for (size_t i = 0; i < stored; i++) frames[i] = reinterpret_cast<uintptr_t>(scratch_[i]);
  ring_.Commit(words);
  BumpFromHandler(taken_);
  WakeConsumerIfHalfFull();
}

// Interpreter frame slots, for an interpreted leaf whose frame GetStackSample drops while a
// frameless bytecode handler runs: fp's own slots. And the frame V8 reported as frames[0]
// (`first`), found on the fp chain: its BytecodeArray slot names frames[0] when V8 derived that
// pc from garbage (V8 13.6; CodeMap::AddCaller). Two cases:
//  - an interpreter frame whose offset slot holds no offset yet (a function's first run after
//    lazy compilation: the slot holds the BytecodeArray's own low bits as a Smi); V8 reports
//    BytecodeArray + that "offset". The frame whose two slots add up to exactly frames[0] is
//    fp itself under a frameless bytecode handler, or fp's caller when the handler built a
//    stub frame of its own (returning into InterpreterEntryTrampoline).
//  - a frame whose callee's record holds no return address: InterpreterOnStackReplacement_
//    ToBaseline, tail-called from a bytecode handler, builds an INTERNAL frame over the
//    interpreter frame to call the runtime, and the slot where its return address would be
//    holds whatever the interpreter frame had on top (a raw bytecode offset, e.g. 0x67), which
//    V8 reports as that function's pc.
// The slots are V8-version facts (kInterpreterFrame), read only where verified, with fp on this
// thread's stack; every read stays in [stack_lo_, stack_hi_), at most 16 frame records up.
Sampler::FrameSlots Sampler::ReadFrameSlots(uintptr_t sp, uintptr_t fp, uintptr_t first,
                                            bool have_first) const {
  constexpr InterpreterFrameLayout kL = kInterpreterFrame;
  FrameSlots slots;
  if (fp + kL.bytecode_offset_from_fp >= stack_lo_) {
    slots.bytecode = StackWord(fp + kL.bytecode_array_from_fp);
    slots.bc_offset = StackWord(fp + kL.bytecode_offset_from_fp);
  }
  if (!have_first) return slots;
  WalkFrames(fp, sp, stack_hi_, 16, [&](uintptr_t f) {
    if (f + kL.bytecode_offset_from_fp < stack_lo_) return false;
    uintptr_t array = StackWord(f + kL.bytecode_array_from_fp);
    uintptr_t offset = StackWord(f + kL.bytecode_offset_from_fp);
    if ((array & 1) == 1 && (offset & 0xffffffffu) == 0 &&
        array + static_cast<uintptr_t>(static_cast<int64_t>(offset) >> 32) == first) {
      slots.owner_bytecode = array;
      return false;
    }
    if (StackWord(f + 8) == first) {
      uintptr_t next = StackWord(f);
      if ((next & 7) == 0 && next > f && next + 16 <= stack_hi_ && next + kL.bytecode_array_from_fp > f) {
        slots.owner_bytecode = StackWord(next + kL.bytecode_array_from_fp);
      }
      return false;
    }
    return true;
  });
  return slots;
}

// The sample's weight (period × (1 + overrun)), then the delta of each extra event since the
// last sample: read(2) of the group leader, into a buffer on this frame.
void Sampler::ReadValues(uint64_t overrun, uint64_t* values) {
  values[0] = options_.period * (1 + overrun);
  if (read_fd_ < 0) return;
  uint64_t buf[1 + kMaxEvents];
  ssize_t got = ::read(read_fd_, buf, sizeof(uint64_t) * (1 + static_cast<size_t>(nfds_)));
  // perf: value 0 is the sampling event itself (its weight is the period); timer: all extra.
  int first = options_.timer ? 0 : 1;
  for (int i = first; i < nfds_; i++) {
    uint64_t v = got > 0 ? buf[1 + i] : last_[i];
    values[1 + i - first] = v - last_[i];
    last_[i] = v;
  }
}

// Half full: wake the consumer now rather than at its next tick (once until it wakes), by
// write(2) to its eventfd.
void Sampler::WakeConsumerIfHalfFull() {
  if (wake_fd_ >= 0 && ring_.Used() > ring_.capacity() / 2 &&
      !wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) < 0) wake_pending_.store(false, std::memory_order_relaxed);
  }
}

// ---- JS thread: install and routing ---------------------------------------------------------

int SampleSignal() { return SIGRTMIN + 3; }

// Installed once and never reset to SIG_DFL: a signal still queued after stop() must find a
// handler (the default action of an RT signal, and of SIGIO, terminates the process).
void InstallSignalHandlers() {
  static std::mutex install_mu;
  static bool installed = false;
  std::lock_guard<std::mutex> lock(install_mu);
  if (installed) return;
  auto install = [](int sig, void (*handler)(int, siginfo_t*, void*), struct sigaction* prev) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, prev);
  };
  install(SampleSignal(), OnSampleSignal, nullptr);
  install(SIGIO, OnSigio, &g_prev_sigio);
  installed = true;
}

bool RouteFd(int fd, Sampler* s) {
  if (fd < 0 || fd >= kMaxRoutedFd) return false;
  g_by_fd[fd].store(s, std::memory_order_release);
  return true;
}

int TakeSlot(Sampler* s) {
  for (int i = 0; i < kMaxSlots; i++) {
    Sampler* expected = nullptr;
    if (g_by_slot[i].compare_exchange_strong(expected, s)) return i;
  }
  return -1;
}

void FreeSlot(int slot) { g_by_slot[slot].store(nullptr, std::memory_order_release); }

uint64_t SignalOverflows() { return g_overflows.load(); }

}  // namespace perfprofile
