// A sampler's start and stop, in the order that lets no signal find freed state.
#include "sampler.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "signal_handler.h"

namespace perfprofile {

namespace {

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

pid_t GetTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

}  // namespace

Sampler::Sampler(v8::Isolate* isolate, SamplerOptions options)
    : isolate_(isolate),
      options_(std::move(options)),
      ring_(options_.ring_bytes / sizeof(uint64_t)),
      scratch_cap_(options_.depth + 1),
      memo_(options_.stack_memo) {
  scratch_ = new void*[scratch_cap_];
  if (memo_.mode() == MemoMode::kCheck) check_ = new void*[scratch_cap_];
}

Sampler::~Sampler() {
  Stop();
  delete[] scratch_;
  delete[] check_;
}

uint64_t Sampler::lost() const {
  uint64_t overflow = (running_ ? SignalOverflows() : overflow_at_stop_) - overflow_at_start_;
  return ring_lost_.load() + overflow + helper_missed_.load();
}

int Sampler::Start(std::string* what) {
  if (running_) return EBUSY;
  InstallSignalHandlers();
  tid_ = GetTid();
  // This thread's stack: the handler reads frame slots only inside it.
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
  memo_.Arm(isolate_, stack_lo_, stack_hi_);
  int err = OpenEvents(what);
  if (err != 0) return err;
  // A slot for the timer's sival_int and for lookups.
  slot_ = TakeSlot(this);
  if (slot_ < 0) {
    *what = "too many samplers";
    Close();
    return EMFILE;
  }
  codemap_.Attach(isolate_);
  overflow_at_start_ = SignalOverflows();
  start_ns_ = NowNs();
  // Before the trigger: the handler reads wake_fd_.
  StartConsumer();
  running_ = true;
  return Arm(what);
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
  Disarm();
  running_ = false;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  stop_ns_ = NowNs();
  overflow_at_stop_ = SignalOverflows();
  Close();
  StopConsumer();
  codemap_.Detach();
  Consume();
  raw_stacks_.Replay(&codemap_, static_cast<size_t>(nvalues_), options_.depth, options_.fixes);
  codemap_.Finish();
}

}  // namespace perfprofile
