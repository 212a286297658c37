// errors.h - the one helper every libbpf/syscall failure throws through
// (H-24), and the argument checks (H-25: types and sizes only).
#ifndef XLB_NATIVE_ERRORS_H
#define XLB_NATIVE_ERRORS_H

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace xlb {

// Builds a JS Error shaped like Node's system errors:
//   message  "<syscall> failed: <strerror>", plus " (<detail>)" when detail
//            is set, else " (<path>)" when path is set
//   code     uv_err_name(-err), e.g. "EPERM"; for libbpf's private codes
//            (LIBBPF_ERRNO__*, 4000 and up) "XLB_ERR_BPF_<NAME>"
//   errno    the NEGATIVE errno, Node's convention (ENOENT -> -2)
//   syscall  the libbpf function or syscall that failed
//   path     the file path involved, when path is set (like Node's errors)
// err may be positive or negative (libbpf 1.x returns -errno).
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall,
                       const std::string& detail = std::string(),
                       const std::string& path = std::string());

// Throws ErrnoError(...). With NAPI_CPP_EXCEPTIONS this is a C++ throw that
// node-addon-api turns into a JS exception at the callback boundary.
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall,
                             const std::string& detail = std::string(),
                             const std::string& path = std::string());

// Sets err[key] = text (a string property).
void SetStringProp(Napi::Error& err, const char* key, const std::string& text);

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowState(Napi::Env env, const std::string& message);

// Argument checks. `what` names the argument as the user sees it, e.g.
// "bpfMap.update: key"; messages read "<what> must be ...".
std::string StringArg(const Napi::CallbackInfo& info, size_t i,
                      const char* what);
uint32_t Uint32Arg(const Napi::CallbackInfo& info, size_t i, const char* what);
int32_t Int32Arg(const Napi::CallbackInfo& info, size_t i, const char* what);
// Optional number: returns dflt when the argument is undefined.
uint32_t OptUint32Arg(const Napi::CallbackInfo& info, size_t i,
                      const char* what, uint32_t dflt);
// A Buffer (any Uint8Array) of exactly `len` bytes.
Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t i,
                                const char* what, size_t len);
// A Buffer of any length.
Napi::Buffer<uint8_t> AnyBufferArg(const Napi::CallbackInfo& info, size_t i,
                                   const char* what);

}  // namespace xlb

#endif  // XLB_NATIVE_ERRORS_H
