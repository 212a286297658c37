// libbpf_log.cc - see libbpf_log.h.
#include "libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace xlb {
namespace {

// The sink of the operation running on this thread, or nullptr.
thread_local std::string* tls_sink = nullptr;

void Append(std::string* sink, const char* text, size_t len) {
  if (sink->size() >= kMaxLibbpfLog) return;
  if (sink->size() + len > kMaxLibbpfLog) {
    sink->append(text, kMaxLibbpfLog - sink->size());
    sink->append("\n[libbpf log truncated]\n");
    return;
  }
  sink->append(text, len);
}

int PrintFn(enum libbpf_print_level level, const char* fmt, va_list args) {
  std::string* sink = tls_sink;
  if (level == LIBBPF_DEBUG || sink == nullptr) return 0;
  char stack[512];
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(stack, sizeof(stack), fmt, copy);
  va_end(copy);
  if (n < 0) return 0;
  if (static_cast<size_t>(n) < sizeof(stack)) {
    Append(sink, stack, static_cast<size_t>(n));
  } else {
    std::string big(static_cast<size_t>(n) + 1, '\0');
    vsnprintf(&big[0], big.size(), fmt, args);
    Append(sink, big.data(), static_cast<size_t>(n));
  }
  return n;
}

}  // namespace

void InstallLibbpfPrint() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(PrintFn); });
}

LibbpfLogCapture::LibbpfLogCapture(std::string* sink) : prev_(tls_sink) {
  tls_sink = sink;
}

LibbpfLogCapture::~LibbpfLogCapture() { tls_sink = prev_; }

}  // namespace xlb
