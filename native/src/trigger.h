// Triggers: perf_event groups and the thread CPU-time timer, and probes of both.
// A perf group either samples (its leader's overflow signals the thread) or counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

struct perf_event_attr;

namespace perfprofile {

/** One event to open with perf_event_open. */
struct PerfEventSpec {
  uint32_t type;
  uint64_t config;
};

/**
 * Opens `events` as one group on this thread: the first is the leader, opened disabled; `tune`
 * sets the caller's fields of each attr (i: its index). Returns 0 with the fds in *fds, or the
 * errno of the failed perf_event_open with every fd closed.
 */
int OpenPerfGroup(const std::vector<PerfEventSpec>& events, bool kernel, int precise,
                  const std::function<void(perf_event_attr*, size_t)>& tune, std::vector<int>* fds);
/** Resets and enables the group of `leader`: 0 or the errno. */
int EnablePerfGroup(int leader);

/** errno of opening (then closing) the event on this thread; 0 when it can be used. */
int ProbePerfEvent(const PerfEventSpec& e, bool kernel, int precise);
/** errno of creating a thread CPU-time timer. */
int ProbeTimer();

}  // namespace perfprofile
