// libbpf_log.h - capture of libbpf's print output per operation.
//
// libbpf has one process-wide print callback (libbpf_set_print). Ours appends
// WARN and INFO lines to the buffer of the operation running on the calling
// thread (a thread-local pointer set by LibbpfLogCapture) and drops DEBUG. It
// never calls into JS, so it is safe on libuv worker threads (LoadWorker).
// Output printed while no capture is active is dropped.
#ifndef XLB_NATIVE_LIBBPF_LOG_H
#define XLB_NATIVE_LIBBPF_LOG_H

#include <string>

namespace xlb {

// Installs the print callback; idempotent, called from module init.
void InstallLibbpfPrint();

// While alive, libbpf output on this thread is appended to *sink (capped at
// kMaxLibbpfLog bytes). Captures nest: the previous sink is restored.
class LibbpfLogCapture {
 public:
  explicit LibbpfLogCapture(std::string* sink);
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

 private:
  std::string* prev_;
};

// Cap on one operation's captured libbpf output, bytes: enough for every
// warning of a load, small enough to attach to an error.
constexpr size_t kMaxLibbpfLog = 1 << 20;

}  // namespace xlb

#endif  // XLB_NATIVE_LIBBPF_LOG_H
