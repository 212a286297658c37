// test_run.h - BPF_PROG_TEST_RUN for XDP programs, shared by
// bpfObject.testRun() and the allocation-free testRunFd().
#ifndef XLB_NATIVE_TEST_RUN_H
#define XLB_NATIVE_TEST_RUN_H

#include <cstdint>

namespace xlb {

struct TestRunOut {
  uint32_t retval;    // the program's verdict
  uint32_t sizeOut;   // bytes written to the output buffer
  uint32_t duration;  // kernel-measured mean ns per repetition
};

// Runs progFd once per `repeat` on `data` (the kernel treats 0 as 1), on the
// CALLING thread: helpers such as bpf_fib_lookup see this thread's network
// namespace, so callers must not move this to a worker thread.
// When withCtx is set, ctx_in is a struct xdp_md {data = 0, data_end = len,
// ingress_ifindex, rx_queue_index}; the kernel resolves the ifindex in this
// thread's netns. No allocation. Returns 0 or a negative errno (-ENOSPC when
// outCap is smaller than the output packet).
int RunXdpTest(int progFd, const uint8_t* data, uint32_t len, uint8_t* out,
               uint32_t outCap, uint32_t repeat, bool withCtx,
               uint32_t ingressIfindex, uint32_t rxQueueIndex,
               uint32_t flags, uint32_t batchSize, TestRunOut* result);

}  // namespace xlb

#endif  // XLB_NATIVE_TEST_RUN_H
