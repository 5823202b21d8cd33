// Counting-mode perf events: totals of each event on this thread between start and stop.
#pragma once

#include <string>
#include <vector>

#include "trigger.h"

namespace perfprofile {

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

}  // namespace perfprofile
