// The sampler's consumer thread: drains the ring while sampling, and writes the progress file.
// Draining while sampling keeps a small ring enough, and memory bounded by distinct raw stacks.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <system_error>

#include "sampler.h"

namespace perfprofile {

namespace {

// The consumer thread drains the ring this often (sooner when the handler finds it half full).
constexpr int kDrainMs = 50;
constexpr int kProgressMs = 250;

}  // namespace

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
  int n = snprintf(buf, sizeof buf, "%20llu\n",
                   static_cast<unsigned long long>(taken_.load(std::memory_order_relaxed)));
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

void Sampler::Consume() { raw_stacks_.Consume(&ring_, static_cast<size_t>(nvalues_), &codemap_); }

}  // namespace perfprofile
