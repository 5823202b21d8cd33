// Triggers: perf_event groups and the thread CPU-time timer; probes; the sampler's trigger.
// The sampler's: perf overflow (F_SETSIG to SIGRTMIN+3, routed to the opening thread with
// F_SETOWN_EX/F_OWNER_TID), a CLOCK_THREAD_CPUTIME_ID timer (SIGEV_THREAD_ID), or the
// cross-core clock helper (clock_helper.cc), all landing in signal_handler.cc.
#include "trigger.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sampler.h"
#include "signal_handler.h"

namespace perfprofile {

namespace {

long PerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu, int group, unsigned long flags) {
  return syscall(SYS_perf_event_open, attr, pid, cpu, group, flags);
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

int OpenPerfGroup(const std::vector<PerfEventSpec>& events, bool kernel, int precise,
                  const std::function<void(perf_event_attr*, size_t)>& tune, std::vector<int>* fds) {
  fds->clear();
  for (size_t i = 0; i < events.size(); i++) {
    perf_event_attr attr;
    FillAttr(&attr, events[i], kernel, precise);
    attr.disabled = i == 0 ? 1 : 0;
    tune(&attr, i);
    long fd = PerfEventOpen(&attr, 0, -1, i == 0 ? -1 : (*fds)[0], PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      for (int f : *fds) ::close(f);
      fds->clear();
      return err;
    }
    fds->push_back(static_cast<int>(fd));
  }
  return 0;
}

int EnablePerfGroup(int leader) {
  if (ioctl(leader, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP) != 0 ||
      ioctl(leader, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP) != 0) {
    return errno;
  }
  return 0;
}

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

// Perf: a sampling group (the leader overflows every `period`, the others are read at each
// sample). Timer and clock helper: a counting group read at each sample, if any events.
int Sampler::OpenEvents(std::string* what) {
  const auto& ev = options_.events;
  if (ev.size() > static_cast<size_t>(kMaxEvents)) {
    *what = "too many events";
    return E2BIG;
  }
  int err = OpenPerfGroup(
      ev, options_.kernel, options_.precise,
      [&](perf_event_attr* attr, size_t i) {
        if (i != 0) return;
        attr->read_format = PERF_FORMAT_GROUP;
        if (!counting()) {
          attr->sample_period = options_.period;
          attr->wakeup_events = 1;
        }
      },
      &fds_);
  if (err != 0) {
    *what = "perf_event_open";
    return err;
  }
  for (int fd : fds_) {
    if (fd >= kMaxRoutedFd) {  // the handler finds its sampler by fd in a fixed table
      *what = "perf_event_open (fd too large)";
      Close();
      return EMFILE;
    }
  }
  nfds_ = static_cast<int>(fds_.size());
  nvalues_ = 1 + static_cast<int>(counting() ? ev.size() : (ev.empty() ? 0 : ev.size() - 1));
  read_fd_ = nvalues_ > 1 ? fds_[0] : -1;
  return 0;
}

int Sampler::Arm(std::string* what) {
  if (options_.clock_helper) {
    if (nfds_ > 0) EnablePerfGroup(fds_[0]);
    int err = StartClockHelper(what);
    if (err != 0) Stop();
    return err;
  }
  if (!options_.timer) {
    int leader = fds_.empty() ? -1 : fds_[0];
    RouteFd(leader, this);
    f_owner_ex owner{F_OWNER_TID, tid_};
    if (fcntl(leader, F_SETOWN_EX, &owner) != 0 || fcntl(leader, F_SETSIG, SampleSignal()) != 0 ||
        fcntl(leader, F_SETFL, fcntl(leader, F_GETFL) | O_ASYNC | O_NONBLOCK) != 0) {
      int err = errno;
      *what = "fcntl";
      Stop();
      return err;
    }
    // IOC_ENABLE, not IOC_REFRESH: REFRESH re-arms per overflow and loses samples.
    int err = EnablePerfGroup(leader);
    if (err != 0) {
      *what = "PERF_EVENT_IOC_ENABLE";
      Stop();
      return err;
    }
    return 0;
  }
  if (nfds_ > 0) EnablePerfGroup(fds_[0]);
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
  return 0;
}

void Sampler::Disarm() {
  StopClockHelper();
  if (have_timer_) {
    timer_delete(timer_);
    have_timer_ = false;
  }
  if (nfds_ > 0) ioctl(fds_[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
}

void Sampler::Close() {
  for (int fd : fds_) {
    RouteFd(fd, nullptr);
    ::close(fd);
  }
  fds_.clear();
  nfds_ = 0;
  read_fd_ = -1;
  if (slot_ >= 0) {
    FreeSlot(slot_);
    slot_ = -1;
  }
}

}  // namespace perfprofile
