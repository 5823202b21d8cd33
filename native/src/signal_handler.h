// The sample signal's handlers, seen from the JS thread: install, routing, overflow count.
// signal_handler.cc holds everything that runs in signal context.
#pragma once

#include <atomic>
#include <cstdint>

namespace perfprofile {

class Sampler;

/** Signal used for samples: SIGRTMIN+3 (Node uses SIGRTMIN-1 .. and 27 during V8's profiler). */
int SampleSignal();
/** Installs the sample-signal and SIGIO handlers, once per process; they are never uninstalled. */
void InstallSignalHandlers();

/** Perf fds the handler can route: its table is indexed by si_fd. */
constexpr int kMaxRoutedFd = 1 << 16;
/** Routes the signals of perf fd `fd` to `s` (nullptr: drops them); false when fd is not routable. */
bool RouteFd(int fd, Sampler* s);
/** A slot that routes timer signals (sival_int = slot + 1) to `s`, or -1 when all are taken. */
int TakeSlot(Sampler* s);
void FreeSlot(int slot);

/** Sample signals lost to RT-queue overflow (the kernel sent SIGIO instead) in this process. */
uint64_t SignalOverflows();

/**
 * Signal handler: adds 1 to a counter that only this thread's handler writes (other threads
 * read it). A plain add: a locked one would wait for every store before it, such as the ring
 * record's, whose cache lines the consumer thread last held (docs/PERFORMANCE.md).
 */
inline void BumpFromHandler(std::atomic<uint64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

/**
 * Signal handler: a word of this thread's stack, in frames the handler did not create (V8's,
 * or ours when the signal lands in C++ code); the caller keeps addr inside the thread's stack
 * bounds. Under AddressSanitizer those frames hold redzones, and a plain read there is
 * reported as a stack-buffer-overflow: the read goes through a function exempt from it, not
 * inlined so the exemption holds. Otherwise it is a plain load (the stack memo reads a few
 * words per frame of every sample).
 */
#if defined(__SANITIZE_ADDRESS__)
uintptr_t StackWordExempt(uintptr_t addr);
inline uintptr_t StackWord(uintptr_t addr) { return StackWordExempt(addr); }
#else
inline uintptr_t StackWord(uintptr_t addr) { return *reinterpret_cast<const uintptr_t*>(addr); }
#endif

}  // namespace perfprofile
