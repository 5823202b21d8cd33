// The cross-core CPU-time trigger (event thread-cputime): a helper thread per sampler sleeps on
// another core, reads the sampled thread's CPU clock and signals it once per period of CPU time.
// The sampled thread pays only the signal (no hrtimer interrupt of its own, unlike perf
// task-clock); the helper pays its wake-ups. One helper per sampler, not one per process: its
// lifetime is the sampler's (started and joined on the sampled thread, so no signal can find
// freed state), Workers stay independent, and a process rarely samples more than a few threads.
//
// The signal is rt_tgsigqueueinfo(SIGRTMIN+3, SI_QUEUE, sival_int = slot + 1): tgkill with a
// payload, so signal_handler.cc finds the sampler by slot as it does for the CPU-time timer.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sampler.h"
#include "signal_handler.h"

namespace perfprofile {

namespace {

// While the sampled thread is off CPU the helper backs off, doubling its nap up to this (or one
// period, when longer): an idle thread costs fewer wake-ups, and a thread that resumes is seen
// at most this late (periods it accrues meanwhile beyond one are counted as lost).
constexpr uint64_t kMaxIdleNapNs = 250000;
// The longest single sleep: stop() joins the helper within it, whatever the period.
constexpr uint64_t kMaxNapNs = 10000000;
// The helper's stack: it calls only a few syscalls.
constexpr size_t kHelperStack = 64 * 1024;

bool ReadClock(clockid_t clock, uint64_t* ns) {
  timespec ts;
  if (clock_gettime(clock, &ts) != 0) return false;
  *ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
  return true;
}

void Nap(uint64_t ns) {
  ns = std::min(ns, kMaxNapNs);
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000u);
  ts.tv_nsec = static_cast<long>(ns % 1000000000u);
  // EINTR cannot happen (every signal is blocked here); a short sleep only costs a wake-up.
  clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
}

// The thread's scheduler state from /proc/self/task/<tid>/stat (the letter after "(comm) "):
// 'R' is running or runnable (preempted), 'S' and 'D' are blocked. '?' when unreadable.
char ThreadState(int stat_fd) {
  char buf[512];
  ssize_t n = pread(stat_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return '?';
  buf[n] = 0;
  const char* close = strrchr(buf, ')');
  return close != nullptr && close[1] == ' ' ? close[2] : '?';
}

}  // namespace

int Sampler::StartClockHelper(std::string* what) {
  int err = pthread_getcpuclockid(pthread_self(), &target_clock_);
  uint64_t probe = 0;
  if (err == 0 && !ReadClock(target_clock_, &probe)) err = errno;
  if (err != 0) {
    *what = "clock_gettime(thread CPU clock)";
    return err;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid_));
  stat_fd_ = ::open(path, O_RDONLY | O_CLOEXEC);  // -1: a stopped clock always means "blocked"
  helper_stop_.store(false, std::memory_order_relaxed);
  helper_missed_.store(0, std::memory_order_relaxed);
  helper_cpu_ns_.store(0, std::memory_order_relaxed);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kHelperStack);
  // The helper starts with every signal blocked: the process's signals go to other threads.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  err = pthread_create(
      &helper_, &attr,
      [](void* self) -> void* {
        static_cast<Sampler*>(self)->ClockHelperLoop();
        return nullptr;
      },
      this);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (err != 0) {
    *what = "pthread_create (thread-cputime helper)";
    CloseStatFd();
    return err;
  }
  // Named before start() returns, to be found in /proc (scripts/bench, the tests).
  pthread_setname_np(helper_, "pp-cputime");
  have_helper_ = true;
  return 0;
}

void Sampler::StopClockHelper() {
  if (!have_helper_) return;
  helper_stop_.store(true, std::memory_order_release);
  pthread_join(helper_, nullptr);  // within one nap (at most kMaxNapNs)
  have_helper_ = false;
  CloseStatFd();
}

void Sampler::CloseStatFd() {
  if (stat_fd_ >= 0) ::close(stat_fd_);
  stat_fd_ = -1;
}

uint64_t Sampler::helper_cpu_ns() const {
  if (!have_helper_) return helper_cpu_ns_.load(std::memory_order_acquire);
  clockid_t c;
  uint64_t ns = 0;
  if (pthread_getcpuclockid(helper_, &c) == 0 && ReadClock(c, &ns)) return ns;
  return helper_cpu_ns_.load(std::memory_order_acquire);
}

// Each turn: read the clock; when it has not moved since the last read the thread is off CPU
// (blocked or preempted): no signal, nap. When a period boundary has passed, read it once more:
// a clock that moved shows the thread running now. One that did not is either preempted (on
// a shared core, always: the helper runs only while the thread does not), then signalled (the
// signal waits for it to run), or blocked, then not signalled: the sample stays owed until it
// runs again, so a blocked event loop is never woken by a sample. Then sleep exactly the CPU
// time still missing to the next boundary (the thread cannot accrue it faster than wall time),
// with 1 ns timer slack.
void Sampler::ClockHelperLoop() {
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  const uint64_t period = options_.period;
  const uint64_t max_nap = std::max(period, kMaxIdleNapNs);
  const pid_t pid = getpid();
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SampleSignal();
  si.si_code = SI_QUEUE;
  si.si_pid = pid;
  si.si_uid = getuid();
  si.si_value.sival_int = slot_ + 1;

  uint64_t last = 0;
  bool ok = ReadClock(target_clock_, &last);
  uint64_t next = last + period;
  uint64_t nap = 0;  // 0: the thread ran at the last read
  while (ok && !helper_stop_.load(std::memory_order_acquire)) {
    uint64_t now;
    if (!ReadClock(target_clock_, &now)) break;  // the thread is gone
    if (now == last) {
      nap = nap == 0 ? std::min(period, max_nap) : std::min(2 * nap, max_nap);
      Nap(std::max(nap, next > now ? next - now : 0));
      continue;
    }
    nap = 0;
    if (now >= next) {
      uint64_t again;
      if (!ReadClock(target_clock_, &again)) break;
      if (again == now && (stat_fd_ < 0 || ThreadState(stat_fd_) != 'R')) {  // blocked: owe it
        last = now;
        continue;
      }
      now = again;
      uint64_t periods = (now - next) / period + 1;
      next += periods * period;
      // One signal, weighing one period: folding missed periods into its weight would put
      // all their CPU time on wherever the signal lands. They are counted as lost instead.
      uint64_t missed = periods - 1;
      if (syscall(SYS_rt_tgsigqueueinfo, pid, tid_, si.si_signo, &si) != 0) {
        if (errno == ESRCH) break;
        missed++;  // EAGAIN: the RT signal queue is full
      }
      if (missed) helper_missed_.fetch_add(missed, std::memory_order_relaxed);
    }
    last = now;
    Nap(next - now);
  }
  uint64_t own = 0;
  if (ReadClock(CLOCK_THREAD_CPUTIME_ID, &own)) helper_cpu_ns_.store(own, std::memory_order_release);
}

}  // namespace perfprofile
