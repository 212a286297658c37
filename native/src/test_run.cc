// test_run.cc - see test_run.h.
#include "test_run.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

namespace xlb {

int RunXdpTest(int progFd, const uint8_t* data, uint32_t len, uint8_t* out,
               uint32_t outCap, uint32_t repeat, bool withCtx,
               uint32_t ingressIfindex, uint32_t rxQueueIndex,
               uint32_t flags, uint32_t batchSize, TestRunOut* result) {
  struct xdp_md ctx = {};
  struct bpf_test_run_opts opts = {};
  opts.sz = sizeof(opts);
  opts.data_in = data;
  opts.data_size_in = len;
  opts.repeat = static_cast<int>(repeat);
  opts.flags = flags;
  opts.batch_size = batchSize;
  // live frames (BPF_F_TEST_XDP_LIVE_FRAMES) are really sent: no data_out
  if ((flags & BPF_F_TEST_XDP_LIVE_FRAMES) == 0) {
    opts.data_out = out;
    opts.data_size_out = outCap;
  }
  if (withCtx) {
    // The kernel accepts ctx_in for XDP only with data = 0 (no metadata),
    // data_end = the packet length and egress_ifindex = 0.
    ctx.data = 0;
    ctx.data_end = len;
    ctx.ingress_ifindex = ingressIfindex;
    ctx.rx_queue_index = rxQueueIndex;
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof(ctx);
  }
  int err = bpf_prog_test_run_opts(progFd, &opts);
  if (err) return err;
  result->retval = opts.retval;
  result->sizeOut = (flags & BPF_F_TEST_XDP_LIVE_FRAMES) ? 0 : opts.data_size_out;
  result->duration = opts.duration;
  return 0;
}

}  // namespace xlb
