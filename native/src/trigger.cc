// Triggers and the signal handler: perf_event overflow (F_SETSIG to SIGRTMIN+3, routed to the
// opening thread with F_SETOWN_EX/F_OWNER_TID) or a CLOCK_THREAD_CPUTIME_ID timer
// (SIGEV_THREAD_ID), both landing in OnSampleSignal, which writes a raw record into the
// sampler's preallocated ring.
#include "sampler.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <system_error>
#include <ucontext.h>
#include <unistd.h>

namespace perfprofile {

namespace {

constexpr int kMaxFd = 1 << 16;
constexpr int kMaxSlots = 256;
// The consumer thread drains the ring this often (sooner when the handler finds it half full).
constexpr int kDrainMs = 50;
constexpr int kProgressMs = 250;

// Handler lookup tables: the handler finds its sampler by si_fd (perf) or by the timer's
// sival_int (slot + 1). Plain atomics: no locks, no allocation, no TLS in the handler.
std::atomic<Sampler*> g_by_fd[kMaxFd];
std::atomic<Sampler*> g_by_slot[kMaxSlots];
// RT-queue overflows: the kernel sends SIGIO instead of the queued signal.
std::atomic<uint64_t> g_overflows{0};
std::mutex g_install_mu;
bool g_installed = false;
struct sigaction g_prev_sigio;

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

pid_t GetTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

long PerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu, int group, unsigned long flags) {
  return syscall(SYS_perf_event_open, attr, pid, cpu, group, flags);
}

// Async-signal-safe: only atomics and the sampler's preallocated memory.
void OnSampleSignal(int, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  Sampler* s = nullptr;
  if (info->si_code == SI_TIMER) {
    int slot = info->si_value.sival_int - 1;
    if (slot >= 0 && slot < kMaxSlots) s = g_by_slot[slot].load(std::memory_order_acquire);
  } else {
    int fd = info->si_fd;
    if (fd >= 0 && fd < kMaxFd) s = g_by_fd[fd].load(std::memory_order_acquire);
  }
  // A stale signal (queued before stop()) finds no sampler and is dropped.
  // A CPU-time timer only fires on scheduler ticks; expirations it skipped are its overrun.
  if (s != nullptr) s->OnSignal(ucontext, info->si_code == SI_TIMER && info->si_overrun > 0 ? static_cast<uint64_t>(info->si_overrun) : 0);
  errno = saved_errno;
}

void OnSigio(int sig, siginfo_t* info, void* ucontext) {
  g_overflows.fetch_add(1, std::memory_order_relaxed);
  if ((g_prev_sigio.sa_flags & SA_SIGINFO) && g_prev_sigio.sa_sigaction != nullptr) {
    g_prev_sigio.sa_sigaction(sig, info, ucontext);
  } else if (g_prev_sigio.sa_handler != SIG_DFL && g_prev_sigio.sa_handler != SIG_IGN && g_prev_sigio.sa_handler != nullptr) {
    g_prev_sigio.sa_handler(sig);
  }
}

// Installed once and never reset to SIG_DFL: a signal still queued after stop() must find a
// handler (the default action of an RT signal, and of SIGIO, terminates the process).
void InstallHandlers() {
  std::lock_guard<std::mutex> lock(g_install_mu);
  if (g_installed) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = OnSampleSignal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SampleSignal(), &sa, nullptr);
  struct sigaction io;
  memset(&io, 0, sizeof io);
  io.sa_sigaction = OnSigio;
  io.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&io.sa_mask);
  sigaction(SIGIO, &io, &g_prev_sigio);
  g_installed = true;
}

void FillAttr(perf_event_attr* attr, const PerfEventSpec& e, bool kernel, int precise) {
  memset(attr, 0, sizeof *attr);
  attr->size = sizeof *attr;
  attr->type = e.type;
  attr->config = e.config;
  attr->exclude_kernel = kernel ? 0 : 1;
  attr->exclude_hv = 1;
  attr->exclude_idle = 1;
  if (e.type != PERF_TYPE_SOFTWARE) attr->precise_ip = static_cast<unsigned>(precise & 3);
}

}  // namespace

int SampleSignal() { return SIGRTMIN + 3; }

// ---- Ring -------------------------------------------------------------------------------

Ring::Ring(size_t words) : buf_(new uint64_t[words]), cap_(words) {}
Ring::~Ring() { delete[] buf_; }

uint64_t* Ring::Reserve(size_t n) {
  size_t h = head_.load(std::memory_order_relaxed);  // only this side writes it
  size_t t = tail_.load(std::memory_order_acquire);  // the consumer is done with words before t
  if (h >= t) {
    // (Restarting an empty ring at 0, to keep its touched pages to the largest backlog, lost
    // samples: the producer then had only [0, t) until the consumer passed the marker at t.)
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

// ---- Sampler ----------------------------------------------------------------------------

Sampler::Sampler(v8::Isolate* isolate, SamplerOptions options)
    : isolate_(isolate),
      options_(std::move(options)),
      ring_(options_.ring_bytes / sizeof(uint64_t)),
      scratch_cap_(options_.depth + 1) {
  scratch_ = new void*[scratch_cap_];
  for (int& fd : fds_) fd = -1;
}

Sampler::~Sampler() {
  Stop();
  delete[] scratch_;
}

uint64_t Sampler::lost() const {
  uint64_t overflow = (running_ ? g_overflows.load() : overflow_at_stop_) - overflow_at_start_;
  return ring_lost_.load() + overflow;
}

int Sampler::Start(std::string* what) {
  if (running_) return EBUSY;
  InstallHandlers();
  tid_ = GetTid();
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr;
    size_t size;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      stack_lo_ = reinterpret_cast<uintptr_t>(addr);
      stack_hi_ = stack_lo_ + size;
    }
    pthread_attr_destroy(&attr);
  }
  const auto& ev = options_.events;
  if (ev.size() > static_cast<size_t>(kMaxEvents)) {
    *what = "too many events";
    return E2BIG;
  }
  // Open the perf events: as a sampling group (perf), or a counting group read per sample (timer).
  for (size_t i = 0; i < ev.size(); i++) {
    perf_event_attr attr;
    FillAttr(&attr, ev[i], options_.kernel, options_.precise);
    bool leader = i == 0;
    attr.disabled = leader ? 1 : 0;
    if (leader) attr.read_format = PERF_FORMAT_GROUP;
    if (leader && !options_.timer) {
      attr.sample_period = options_.period;
      attr.wakeup_events = 1;
    }
    long fd = PerfEventOpen(&attr, 0, -1, leader ? -1 : fds_[0], PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      *what = "perf_event_open";
      Close();
      return err;
    }
    if (fd >= kMaxFd) {
      ::close(static_cast<int>(fd));
      *what = "perf_event_open (fd too large)";
      Close();
      return EMFILE;
    }
    fds_[nfds_++] = static_cast<int>(fd);
  }
  nvalues_ = 1 + static_cast<int>(options_.timer ? ev.size() : (ev.empty() ? 0 : ev.size() - 1));
  read_fd_ = nvalues_ > 1 ? fds_[0] : -1;

  // A slot for the timer's sival_int and for lookups.
  for (int i = 0; i < kMaxSlots; i++) {
    Sampler* expected = nullptr;
    if (g_by_slot[i].compare_exchange_strong(expected, this)) {
      slot_ = i;
      break;
    }
  }
  if (slot_ < 0) {
    *what = "too many samplers";
    Close();
    return EMFILE;
  }

  codemap_.Attach(isolate_);
  if (nvalues_ > 1) {
    uint64_t buf[1 + kMaxEvents];
    // Baseline for deltas: the group is still disabled, so this reads zeros; kept for clarity.
    if (::read(read_fd_, buf, sizeof(uint64_t) * (1 + ev.size())) > 0) {
      for (size_t i = 0; i < ev.size(); i++) last_[i] = buf[1 + i];
    }
  }
  overflow_at_start_ = g_overflows.load();
  start_ns_ = NowNs();
  // Before the trigger: the handler reads wake_fd_.
  StartConsumer();
  running_ = true;

  if (!options_.timer) {
    int leader = fds_[0];
    g_by_fd[leader].store(this, std::memory_order_release);
    f_owner_ex owner{F_OWNER_TID, tid_};
    if (fcntl(leader, F_SETOWN_EX, &owner) != 0 || fcntl(leader, F_SETSIG, SampleSignal()) != 0 ||
        fcntl(leader, F_SETFL, fcntl(leader, F_GETFL) | O_ASYNC | O_NONBLOCK) != 0) {
      int err = errno;
      *what = "fcntl";
      Stop();
      return err;
    }
    // IOC_ENABLE rather than IOC_REFRESH: REFRESH re-arms per overflow and lost ~4% of samples.
    if (ioctl(leader, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP) != 0 ||
        ioctl(leader, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP) != 0) {
      int err = errno;
      *what = "PERF_EVENT_IOC_ENABLE";
      Stop();
      return err;
    }
  } else {
    if (nfds_ > 0) {
      ioctl(fds_[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
      ioctl(fds_[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
    }
    sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SampleSignal();
    sev.sigev_value.sival_int = slot_ + 1;
    sev._sigev_un._tid = tid_;
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &timer_) != 0) {
      int err = errno;
      *what = "timer_create";
      Stop();
      return err;
    }
    have_timer_ = true;
    itimerspec its;
    its.it_interval.tv_sec = static_cast<time_t>(options_.period / 1000000000u);
    its.it_interval.tv_nsec = static_cast<long>(options_.period % 1000000000u);
    its.it_value = its.it_interval;
    if (timer_settime(timer_, 0, &its, nullptr) != 0) {
      int err = errno;
      *what = "timer_settime";
      Stop();
      return err;
    }
  }
  return 0;
}

// A word of this thread's stack, read by the signal handler from frames it did not create
// (V8's, or ours when the signal lands in C++ code). Under AddressSanitizer those frames hold
// redzones, and a plain read there is reported as a stack-buffer-overflow (seen at a sample
// inside DispatchJitCodeEvent): this read is exempt. Not inlined, so the exemption holds.
static __attribute__((no_sanitize_address, noinline)) uintptr_t StackWord(uintptr_t addr) {
  return *reinterpret_cast<const uintptr_t*>(addr);
}

void Sampler::OnSignal(void* ucontext, uint64_t overrun) {
  if (!running_) return;
  const ucontext_t* uc = static_cast<const ucontext_t*>(ucontext);
  uintptr_t pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  uintptr_t sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  uintptr_t fp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RBP]);
  // Stamp before walking: code events logged after this point are newer than this sample.
  uint64_t seq = codemap_.NextSeq();

  v8::RegisterState regs;
  regs.pc = reinterpret_cast<void*>(pc);
  regs.sp = reinterpret_cast<void*>(sp);
  regs.fp = reinterpret_cast<void*>(fp);
  regs.lr = nullptr;
  v8::SampleInfo info;
  memset(&info, 0, sizeof info);
  isolate_->GetStackSample(regs, scratch_, scratch_cap_, &info);

  // Interpreter frame slots, for an interpreted leaf whose frame GetStackSample drops while a
  // frameless bytecode handler runs. Read only when fp lies on this thread's stack.
  uintptr_t bytecode = 0, bc_offset = 0;
  // rbp is a general register in native code: require an aligned address on this stack.
  bool fp_ok = (fp & 7) == 0 && fp >= sp && fp < stack_hi_;
  // The slots are V8-version facts (kInterpreterFrame): read only where they were verified.
  constexpr InterpreterFrameLayout kL = kInterpreterFrame;
  if (kL.verified && options_.fixes.frameless && fp_ok && fp + kL.bytecode_offset_from_fp >= stack_lo_) {
    bytecode = StackWord(fp + kL.bytecode_array_from_fp);
    bc_offset = StackWord(fp + kL.bytecode_offset_from_fp);
  }
  // The frame V8 reported as frames[0], found on the fp chain: its BytecodeArray slot names
  // frames[0] when V8 derived that pc from garbage (V8 13.6; CodeMap::AddSample). Two cases:
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
  // Reads stay on this thread's stack, at most 16 frame records up.
  uintptr_t owner_bytecode = 0;
  if (kL.verified && options_.fixes.frameless && fp_ok && info.frames_count > 0) {
    uintptr_t want = reinterpret_cast<uintptr_t>(scratch_[0]);
    uintptr_t f = fp;
    for (int n = 0; n < 16 && (f & 7) == 0 && f >= sp && f + 16 <= stack_hi_ && f + kL.bytecode_offset_from_fp >= stack_lo_; n++) {
      uintptr_t array = StackWord(f + kL.bytecode_array_from_fp);
      uintptr_t offset = StackWord(f + kL.bytecode_offset_from_fp);
      if ((array & 1) == 1 && (offset & 0xffffffffu) == 0 &&
          array + static_cast<uintptr_t>(static_cast<int64_t>(offset) >> 32) == want) {
        owner_bytecode = array;
        break;
      }
      uintptr_t next = StackWord(f);
      if (StackWord(f + 8) == want) {
        if ((next & 7) == 0 && next > f && next + 16 <= stack_hi_ && next + kL.bytecode_array_from_fp > f) {
          owner_bytecode = StackWord(next + kL.bytecode_array_from_fp);
        }
        break;
      }
      if (next <= f) break;
      f = next;
    }
  }

  uint64_t values[kMaxEvents + 1];
  values[0] = options_.period * (1 + overrun);
  if (read_fd_ >= 0) {
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

  size_t total = info.frames_count;
  if (total > options_.depth) {
    // Cut: count the rest by the frame-pointer chain (JS frames always keep rbp) instead of
    // letting V8 walk them all, which at 10,000 frames costs more than a sampling interval.
    // May include a few native frames below the JS entry. Reads stay within [sp, stack top).
    size_t n = 0;
    uintptr_t f = fp;
    while (fp_ok && (f & 7) == 0 && f >= sp && f + 16 <= stack_hi_ && n < (1u << 22)) {
      uintptr_t next = StackWord(f);
      n++;
      if (next <= f) break;
      f = next;
    }
    if (n > total) total = n;
  }
  size_t stored = total < options_.depth ? total : options_.depth;
  size_t words = kRecValues + static_cast<size_t>(nvalues_) + stored;
  uint64_t* rec = ring_.Reserve(words);
  if (rec == nullptr) {
    ring_lost_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  rec[kRecLen] = words;
  rec[kRecSeq] = seq;
  rec[kRecVmState] = static_cast<uint64_t>(info.vm_state);
  rec[kRecPc] = pc;
  rec[kRecExternal] = reinterpret_cast<uintptr_t>(info.external_callback_entry);
  rec[kRecBytecode] = bytecode;
  rec[kRecBcOffset] = bc_offset;
  rec[kRecOwnerBytecode] = owner_bytecode;
  rec[kRecTotal] = total;
  rec[kRecStored] = stored;
  for (int i = 0; i < nvalues_; i++) rec[kRecValues + i] = values[i];
  uint64_t* frames = rec + kRecValues + nvalues_;
  for (size_t i = 0; i < stored; i++) frames[i] = reinterpret_cast<uintptr_t>(scratch_[i]);
  ring_.Commit(words);
  taken_.fetch_add(1, std::memory_order_relaxed);
  // Half full: wake the consumer now rather than at its next tick (once until it wakes).
  if (wake_fd_ >= 0 && ring_.Used() > ring_.capacity() / 2 && !wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) < 0) wake_pending_.store(false, std::memory_order_relaxed);
  }
}

void Sampler::Close() {
  for (int i = 0; i < nfds_; i++) {
    if (fds_[i] < kMaxFd) g_by_fd[fds_[i]].store(nullptr, std::memory_order_release);
    ::close(fds_[i]);
    fds_[i] = -1;
  }
  nfds_ = 0;
  read_fd_ = -1;
  if (slot_ >= 0) {
    g_by_slot[slot_].store(nullptr, std::memory_order_release);
    slot_ = -1;
  }
}

void Sampler::StartConsumer() {
  if (!options_.progress_path.empty()) {
    progress_fd_ = ::open(options_.progress_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    // progress is a nicety: sampling goes on without it (progress_fd_ stays -1)
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  consumer_stop_.store(false, std::memory_order_relaxed);
  wake_pending_.store(false, std::memory_order_relaxed);
  // Without an eventfd the thread still drains every kDrainMs (poll on no descriptor sleeps);
  // without a thread (std::system_error below) the ring is drained at stop() only, as a full
  // ring counts the rest as lost.
  try {
    consumer_ = std::thread([this] {
      auto last_progress = std::chrono::steady_clock::now();
      if (progress_fd_ >= 0) WriteProgress();
      for (;;) {
        pollfd p{wake_fd_, POLLIN, 0};
        ::poll(&p, wake_fd_ >= 0 ? 1 : 0, kDrainMs);
        if (p.revents & POLLIN) {
          uint64_t v;
          if (::read(wake_fd_, &v, sizeof v) < 0) v = 0;
        }
        // Cleared before draining: a half-full ring seen after this wakes the thread again.
        wake_pending_.store(false, std::memory_order_release);
        bool stop = consumer_stop_.load(std::memory_order_acquire);
        if (stop) break;  // stop() drains what is left itself, after the trigger is off
        Consume();
        auto now = std::chrono::steady_clock::now();
        if (progress_fd_ >= 0 && now - last_progress >= std::chrono::milliseconds(kProgressMs)) {
          WriteProgress();
          last_progress = now;
        }
      }
    });
  } catch (const std::system_error&) {
    // sampling goes on; progress is not written while it runs
  }
}

void Sampler::WriteProgress() {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%20llu\n", static_cast<unsigned long long>(taken_.load(std::memory_order_relaxed)));
  if (n > 0 && ::pwrite(progress_fd_, buf, static_cast<size_t>(n), 0) < 0) return;
}

void Sampler::StopConsumer() {
  if (consumer_.joinable()) {
    consumer_stop_.store(true, std::memory_order_release);
    if (wake_fd_ >= 0) {
      uint64_t one = 1;
      if (::write(wake_fd_, &one, sizeof one) < 0) {
        // the thread wakes at its next tick anyway
      }
    }
    consumer_.join();
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
  if (progress_fd_ >= 0) {
    WriteProgress();
    ::close(progress_fd_);
    progress_fd_ = -1;
  }
}

void Sampler::Stop() {
  if (!running_) {
    StopConsumer();
    Close();
    return;
  }
  // Order matters: stop the trigger, then forget the lookup entries (a signal already queued
  // finds nothing and is dropped), then stop the consumer thread and drain the rest here (the
  // join hands the ring's consumer side to this thread). The handlers stay installed.
  if (have_timer_) {
    timer_delete(timer_);
    have_timer_ = false;
  }
  if (nfds_ > 0) ioctl(fds_[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
  running_ = false;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  stop_ns_ = NowNs();
  overflow_at_stop_ = g_overflows.load();
  Close();
  StopConsumer();
  codemap_.Detach();
  Consume();
  Replay();
  codemap_.Finish();
}

void Sampler::Consume() {
  std::lock_guard<std::mutex> lock(agg_mu_);
  const size_t nvalues = static_cast<size_t>(nvalues_);
  ring_.Drain([&](const uint64_t* rec) {
    uint64_t seq = rec[kRecSeq];
    uint64_t epoch = CodeMap::Epoch(seq);
    // Key: epoch, then the record from kRecVmState on, minus the values (they are summed).
    uint64_t head[kRecValues];
    memcpy(head, rec, sizeof head);
    // The interpreter-frame slots are whatever fp-32/fp-40 hold, often spilled values of an
    // optimized frame that change at every sample (half the fixture's samples were distinct by
    // them alone). CodeMap::AddSample reads them only when the BytecodeArray slot is tagged
    // (odd) and names a BYTE_CODE entry of the map at the sample's seq (exactly
    // kInterpreterFrame.bytecode_header bytes in), and the offset slot only as a Smi (low half
    // 0) or as tagged (odd, a baseline frame): keep what it can read, fold the rest to one value
    // each, so such samples merge. code_starts_ holds every entry start the map can have at
    // this record's seq once the events logged so far are collected (the events numbered
    // before the record are all logged by now: OnEvent numbers and logs under one lock).
    auto may_name_code = [&](uint64_t tagged) {
      uintptr_t first = FirstBytecode(static_cast<uintptr_t>(tagged));
      if (code_starts_.count(first) != 0) return true;
      codemap_.CollectCodeStarts(&code_starts_, &code_cursor_);
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
    agg_key_.assign(reinterpret_cast<const char*>(&epoch), sizeof epoch);
    agg_key_.append(reinterpret_cast<const char*>(head + kRecVmState), (kRecValues - kRecVmState) * sizeof(uint64_t));
    agg_key_.append(reinterpret_cast<const char*>(rec + kRecValues + nvalues), rec[kRecStored] * sizeof(uint64_t));
    Aggregate& a = aggregates_[agg_key_];
    a.seq = std::max(a.seq, seq);
    a.count++;
    for (size_t i = 0; i < nvalues; i++) a.values[i] += rec[kRecValues + i];
  });
}

void Sampler::Replay() {
  std::lock_guard<std::mutex> lock(agg_mu_);
  // Sequence order, as the code-event log is replayed: an aggregate stands at its largest seq,
  // and no code event lies between its samples, so each sees the map its samples saw.
  std::vector<const std::pair<const std::string, Aggregate>*> order;
  order.reserve(aggregates_.size());
  for (const auto& kv : aggregates_) order.push_back(&kv);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->second.seq < b->second.seq; });
  const Fixes& fx = options_.fixes;
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
    s.nvalues = static_cast<size_t>(nvalues_);
    s.frames = words.data() + kHead;
    s.depth = options_.depth;
    codemap_.AddSample(s, fx);
  }
  replayed_ = aggregates_.size();
  aggregates_.clear();
}

// ---- Probing and counting -------------------------------------------------------------------

int ProbePerfEvent(const PerfEventSpec& e, bool kernel, int precise) {
  perf_event_attr attr;
  FillAttr(&attr, e, kernel, precise);
  attr.disabled = 1;
  long fd = PerfEventOpen(&attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) return errno;
  ::close(static_cast<int>(fd));
  return 0;
}

int ProbeTimer() {
  sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_NONE;
  timer_t t;
  if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t) != 0) return errno;
  timer_delete(t);
  return 0;
}

Counters::~Counters() {
  for (int fd : fds_) ::close(fd);
}

int Counters::Start(std::string* what) {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  for (size_t i = 0; i < events_.size(); i++) {
    perf_event_attr attr;
    FillAttr(&attr, events_[i], false, 0);
    attr.disabled = i == 0 ? 1 : 0;
    attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    long fd = PerfEventOpen(&attr, 0, -1, i == 0 ? -1 : fds_[0], PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      *what = "perf_event_open";
      for (int f : fds_) ::close(f);
      fds_.clear();
      return err;
    }
    fds_.push_back(static_cast<int>(fd));
  }
  if (!fds_.empty()) {
    ioctl(fds_[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
    ioctl(fds_[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
  }
  return 0;
}

std::vector<double> Counters::Stop() {
  std::vector<double> out(events_.size(), 0);
  if (fds_.empty()) return out;
  ioctl(fds_[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
  std::vector<uint64_t> buf(3 + events_.size());
  if (::read(fds_[0], buf.data(), buf.size() * sizeof(uint64_t)) > 0) {
    double enabled = static_cast<double>(buf[1]), running = static_cast<double>(buf[2]);
    double scale = running > 0 && enabled > running ? enabled / running : 1.0;
    for (size_t i = 0; i < events_.size() && i < buf[0]; i++) out[i] = static_cast<double>(buf[3 + i]) * scale;
  }
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  return out;
}

}  // namespace perfprofile
