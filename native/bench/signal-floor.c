// The floor of signal-driven sampling on this machine: the same trigger the addon uses
// (perf_event task-clock overflow → F_SETSIG real-time signal to this thread) and the
// timer_create alternatives, with an empty handler, around a fixed CPU-bound loop. Prints the cost per sample
// in µs and the overhead at each rate, by wall time and by this thread's on-CPU time. Anything the addon adds
// on top (GetStackSample, the ring write) is measured against this.
//
//   cc -O2 -o /tmp/signal-floor native/bench/signal-floor.c && /tmp/signal-floor [rounds]
//   /tmp/signal-floor <rounds> --json <rate>... [--cross-core]   one JSON line per (trigger,
//   rate), for the two perf triggers and the cross-core ones (only these with --cross-core):
//   what scripts/bench.mjs prints beside the sources it measures.
// The cross-core trigger is event=thread-cputime's (native/src/clock_helper.cc) reduced to its
// mechanism: a helper thread sleeps the CPU time still missing, reads this thread's CPU clock
// and tgkills it once per period; its own CPU time is reported too (cc -pthread). The cross-core
// wall trigger is V8's sampler's way: the helper tgkills the thread once per period of wall time.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t g_signals;

static void on_signal(int sig, siginfo_t* info, void* uc) {
  (void)sig;
  (void)info;
  (void)uc;
  g_signals++;
}

static uint64_t ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t work(uint64_t n) {
  uint64_t a = 1;
  for (uint64_t i = 0; i < n; i++) a = a * 6364136223846793005u + i;
  return a;
}

enum trigger {
  PERF_TASK_CLOCK,
  TIMER_THREAD_CPU,
  TIMER_MONOTONIC,
  PERF_NO_SIGNAL,
  CROSS_CORE_CPU,
  CROSS_CORE_WALL,
  NTRIGGERS
};
static const char* const kTriggerName[] = {"perf task-clock",
                                           "timer thread-cputime",
                                           "timer monotonic",
                                           "perf task-clock, no signal (kernel ring)",
                                           "cross-core cputime (tgkill)",
                                           "cross-core wall (tgkill)"};

struct helper {
  pthread_t thread;
  clockid_t clock;
  pid_t tid;
  uint64_t period;
  int wall;  // signal per period of wall time, not of the thread's CPU time
  volatile int stop;
  uint64_t cpu_ns;  // the helper's own CPU time, at its end
};

static void nap(uint64_t d) {
  struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
  clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

static void* helper_main(void* arg) {
  struct helper* h = arg;
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  if (h->wall) {
    // Absolute deadlines, periods missed while late skipped: the asked rate, not V8's drift.
    uint64_t next = ns(CLOCK_MONOTONIC) + h->period;
    while (!h->stop) {
      struct timespec ts = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
      syscall(SYS_tgkill, getpid(), h->tid, SIGRTMIN + 3);
      uint64_t now = ns(CLOCK_MONOTONIC);
      next += (now > next ? (now - next) / h->period + 1 : 1) * h->period;
    }
    h->cpu_ns = ns(CLOCK_THREAD_CPUTIME_ID);
    return NULL;
  }
  uint64_t last = ns(h->clock), next = last + h->period;
  while (!h->stop) {
    uint64_t now = ns(h->clock);
    if (now >= next) {
      next += ((now - next) / h->period + 1) * h->period;
      syscall(SYS_tgkill, getpid(), h->tid, SIGRTMIN + 3);
    }
    nap(now > last && next > now ? next - now : h->period);
    last = now;
  }
  h->cpu_ns = ns(CLOCK_THREAD_CPUTIME_ID);
  return NULL;
}

static double g_helper_ns;  // the cross-core helper's CPU time in the last pass

// Returns wall and CPU ns of one pass; rate 0 = unprofiled.
static void pass(enum trigger how, long rate, uint64_t n, double* wall, double* cpu, uint64_t* samples) {
  int fd = -1;
  timer_t timer;
  int have_timer = 0;
  if (rate > 0 && (how == TIMER_THREAD_CPU || how == TIMER_MONOTONIC)) {
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGRTMIN + 3;
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(how == TIMER_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &sev, &timer) != 0) {
      perror("timer_create");
      exit(1);
    }
    struct itimerspec its;
    its.it_interval.tv_sec = 0;
    its.it_interval.tv_nsec = 1000000000L / rate;
    its.it_value = its.it_interval;
    timer_settime(timer, 0, &its, NULL);
    have_timer = 1;
  }
  void* ring = MAP_FAILED;
  const size_t ring_len = (1 + 64) * 4096;
  if (rate > 0 && (how == PERF_TASK_CLOCK || how == PERF_NO_SIGNAL)) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.sample_period = 1000000000u / (uint64_t)rate;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.disabled = 1;
    attr.wakeup_events = how == PERF_NO_SIGNAL ? 0 : 1;
    attr.sample_type = how == PERF_NO_SIGNAL ? PERF_SAMPLE_IP : 0;
    fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
      perror("perf_event_open");
      exit(1);
    }
    if (how == PERF_NO_SIGNAL) {
      // The interrupt alone: the kernel writes each sample (ip) into an mmap ring, no signal.
      ring = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (ring == MAP_FAILED) {
        perror("mmap");
        exit(1);
      }
    } else {
      struct f_owner_ex owner = {F_OWNER_TID, (pid_t)syscall(SYS_gettid)};
      fcntl(fd, F_SETOWN_EX, &owner);
      fcntl(fd, F_SETSIG, SIGRTMIN + 3);
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC | O_NONBLOCK);
    }
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
  }
  struct helper h;
  memset(&h, 0, sizeof h);
  g_helper_ns = 0;
  if (rate > 0 && (how == CROSS_CORE_CPU || how == CROSS_CORE_WALL)) {
    h.wall = how == CROSS_CORE_WALL;
    pthread_getcpuclockid(pthread_self(), &h.clock);
    h.tid = (pid_t)syscall(SYS_gettid);
    h.period = 1000000000u / (uint64_t)rate;
    if (pthread_create(&h.thread, NULL, helper_main, &h) != 0) {
      perror("pthread_create");
      exit(1);
    }
  }
  uint64_t s0 = g_signals, w0 = ns(CLOCK_MONOTONIC), c0 = ns(CLOCK_THREAD_CPUTIME_ID);
  volatile uint64_t sink = work(n);
  (void)sink;
  *wall = (double)(ns(CLOCK_MONOTONIC) - w0);
  *cpu = (double)(ns(CLOCK_THREAD_CPUTIME_ID) - c0);
  *samples = g_signals - s0;
  if (h.period) {
    h.stop = 1;
    pthread_join(h.thread, NULL);
    g_helper_ns = (double)h.cpu_ns;
  }
  if (ring != MAP_FAILED) {
    // The ring overwrites nothing once full; count what the kernel produced instead.
    uint64_t count = 0;
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    if (read(fd, &count, sizeof count) == sizeof count) *samples = count / (1000000000u / (uint64_t)rate);
    munmap(ring, ring_len);
  }
  if (fd >= 0) {
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    close(fd);
  }
  if (have_timer) timer_delete(timer);
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 9;
  if (rounds > 64) rounds = 64;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGRTMIN + 3, &sa, NULL);
  signal(SIGIO, SIG_IGN);
  const uint64_t n = 400000000;  // ~0.4 s of work
  long rates[16] = {1000, 5000, 10000, 20000, 50000};
  int nr = 5;
  int json = argc > 2 && strcmp(argv[2], "--json") == 0;
  int cross_core_only = 0;
  if (json) {
    nr = 0;
    for (int i = 3; i < argc && nr < 16; i++) {
      if (strcmp(argv[i], "--cross-core") == 0) {
        cross_core_only = 1;
        continue;
      }
      long r = atol(argv[i]);
      if (r > 0) rates[nr++] = r;
    }
  }
  if (rounds < 1) rounds = 1;
  double wall, cpu;
  uint64_t got;
  pass(PERF_TASK_CLOCK, 0, n, &wall, &cpu, &got);  // warm up
  if (!json)
    printf(
        "| trigger | rate | samples/s | per-sample cost µs (wall) | overhead wall %% | overhead on-CPU %% "
        "|\n|---|---|---|---|---|---|\n");
  for (int how = 0; how < NTRIGGERS; how++)
    for (int r = 0; r < nr; r++) {
      if (json && (how == TIMER_THREAD_CPU || how == TIMER_MONOTONIC)) continue;
      if (cross_core_only && how != CROSS_CORE_CPU && how != CROSS_CORE_WALL) continue;
      double ow[64], oc[64], per[64], sps[64], helper[64], cper[64];
      for (int i = 0; i < rounds; i++) {
        double bw, bc, pw, pc;
        uint64_t s;
        pass(how, 0, n, &bw, &bc, &got);
        pass(how, rates[r], n, &pw, &pc, &s);
        ow[i] = (pw / bw - 1) * 100;
        oc[i] = (pc / bc - 1) * 100;
        per[i] = s ? (pw - bw) / (double)s / 1000.0 : 0;
        sps[i] = (double)s / (pc / 1e9);
        helper[i] = g_helper_ns / (pw / 1e9) / 1e6;        // ms of helper CPU per s
        cper[i] = s ? (pc - bc) / (double)s / 1000.0 : 0;  // this thread's CPU µs per sample
      }
      qsort(cper, rounds, sizeof(double), cmp);
      qsort(helper, rounds, sizeof(double), cmp);
      qsort(ow, rounds, sizeof(double), cmp);
      qsort(oc, rounds, sizeof(double), cmp);
      qsort(per, rounds, sizeof(double), cmp);
      qsort(sps, rounds, sizeof(double), cmp);
      if (json) {
        printf(
            "{\"trigger\":\"%s\",\"rate\":%ld,\"samplesPerSec\":%.0f,\"perSampleUs\":%.2f,\"overheadWall\":{"
            "\"median\":%.2f,\"min\":%.2f,\"max\":%.2f},\"overheadCpu\":%.2f,\"cpuPerSampleUs\":%.2f,"
            "\"helperMsPerSec\":%.1f}\n",
            kTriggerName[how], rates[r], sps[rounds / 2], per[rounds / 2], ow[rounds / 2], ow[0],
            ow[rounds - 1], oc[rounds / 2], cper[rounds / 2], helper[rounds / 2]);
        continue;
      }
      printf("| %s | %ld Hz | %.0f | %.2f | %.2f (%.2f … %.2f) | %.2f |\n", kTriggerName[how], rates[r],
             sps[rounds / 2], per[rounds / 2], ow[rounds / 2], ow[0], ow[rounds - 1], oc[rounds / 2]);
    }
  return 0;
}
