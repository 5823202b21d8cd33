// Counting-mode perf event groups (see counters.h).
#include "counters.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdint>

namespace perfprofile {

Counters::~Counters() {
  for (int fd : fds_) ::close(fd);
}

int Counters::Start(std::string* what) {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  int err = OpenPerfGroup(
      events_, false, 0,
      [](perf_event_attr* attr, size_t) {
        attr->read_format =
            PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
      },
      &fds_);
  if (err != 0) {
    *what = "perf_event_open";
    return err;
  }
  if (!fds_.empty()) EnablePerfGroup(fds_[0]);
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
    for (size_t i = 0; i < events_.size() && i < buf[0]; i++)
      out[i] = static_cast<double>(buf[3 + i]) * scale;
  }
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  return out;
}

}  // namespace perfprofile
