// bfd_echo.h - BfdEchoTx: the BFD own-echo clock (issue 15, RFC 5880 §6.4,
// RFC 5881 §4). One native thread per instance sends each registered
// session's echo frame on its interval out of an AF_PACKET socket and reads
// the session's slot of the pinned, mmap'ed xlb_bfd_echo array, where XDP
// timestamps the echoes that come back (bpf/lib/bfd.h). When a session's
// last echo back is older than its detection time, the thread tells JS once
// (a thread-safe function), not per packet.
//
// Why a thread and not a JS timer: an echo interval of 1 ms must work, and a
// Node timer has whole-ms resolution and fired 0.11 ms late at the median,
// 3.0 ms at p99 and 18.7 ms at worst on the lab machine (README "BFD
// configuration", own echo); a condition variable on CLOCK_MONOTONIC
// with an absolute deadline wakes within tens of µs, and wakes at once when
// a session is set or removed or the instance closes (clock_nanosleep could
// not be interrupted without a signal).
//
// Moves bytes only (H-14): the frame (Ethernet, IP, UDP, echo payload) is
// built in TypeScript (src/bfd/echo-frame.ts); the thread writes a sequence
// number (big endian) at one offset and updates a 16-bit one's-complement
// checksum at another (RFC 1624), and reads two u64 fields of a slot at the
// offsets it was given (from the generated ABI). No struct is interpreted.
//
// JS:
//   new BfdEchoTx({ mapPath, slotSize, lastNsOffset, countOffset }, onFail)
//     opens the pinned map and mmaps it read-only, opens the packet socket
//     (in the calling thread's network namespace), starts the thread.
//     onFail(slot, agoNs, returned): the slot's last echo back (or its
//     registration, if none came back) is agoNs old, more than its detection
//     time; called once, then the slot is not checked again until set().
//   set(slot, { ifindex, frame, seqOffset, csumOffset, intervalUs, detectUs })
//     starts (or restarts, with a new frame and timers) the slot's echo: the
//     first one goes out at once, detection counts from now.
//     options.rtPriority (1..99): the thread runs SCHED_FIFO at it (needs
//     CAP_SYS_NICE; a refusal is kept, see threadInfo(), and it runs on).
//   remove(slot)  stops it.   stats(slot)  counters, or null when not set.
//   threadInfo()  { rtPriority, rtErrno }: what the thread got.
//   close()  stops the thread, unmaps, closes. Idempotent; env teardown too.
#ifndef XLB_NATIVE_BFD_ECHO_H
#define XLB_NATIVE_BFD_ECHO_H

#include <napi.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "addon.h"

namespace xlb {

class BfdEchoTx : public Napi::ObjectWrap<BfdEchoTx>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit BfdEchoTx(const Napi::CallbackInfo& info);
  ~BfdEchoTx() override;
  void CloseHandles() override;

 private:
  // One session's echo. Guarded by mu_.
  struct Session {
    int ifindex = 0;
    std::vector<uint8_t> frame;  // the template, sequence field 0
    uint32_t seqOffset = 0;
    int32_t csumOffset = -1;     // -1: no checksum to update
    uint16_t csum0 = 0;          // the template's checksum (sequence 0)
    uint64_t intervalNs = 0;
    uint64_t detectNs = 0;
    uint64_t nextSendNs = 0;
    uint64_t armedNs = 0;        // set(), or a late send: detection counts from here
    uint32_t seq = 0;
    bool failed = false;         // reported; not checked until set() again
    uint64_t sent = 0;
    uint64_t sendErrors = 0;
    int lastErrno = 0;
    uint64_t late = 0;           // sends more than one interval behind (skipped ahead)
    uint64_t lateMaxNs = 0;      // worst lateness of a send
  };

  Napi::Value JS_set(const Napi::CallbackInfo& info);
  Napi::Value JS_remove(const Napi::CallbackInfo& info);
  Napi::Value JS_stats(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);
  Napi::Value JS_threadInfo(const Napi::CallbackInfo& info);
  void EnsureOpen(Napi::Env env, const char* method) const;
  void Run();
  void SendOne(uint32_t slot, Session& s, uint64_t now);
  uint64_t ReadU64(uint32_t slot, uint32_t offset) const;

  Addon* addon_;
  bool open_ = false;
  int mapFd_ = -1;
  int sock_ = -1;
  const uint8_t* map_ = nullptr;  // PROT_READ mapping of the slots
  size_t mapLen_ = 0;
  uint32_t slots_ = 0;
  uint32_t slotSize_ = 0;
  uint32_t lastNsOffset_ = 0;
  uint32_t countOffset_ = 0;
  uint32_t rtPriority_ = 0;
  int rtErrno_ = 0;  // guarded by mu_
  Napi::ThreadSafeFunction onFail_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;               // guarded by mu_
  std::map<uint32_t, Session> sessions_;  // by slot; guarded by mu_
};

}  // namespace xlb

#endif  // XLB_NATIVE_BFD_ECHO_H
