// errors.cc - see errors.h.
#include "errors.h"

#include <bpf/libbpf.h>
#include <uv.h>

#include <cerrno>
#include <cstring>

namespace xlb {
namespace {

// Names of libbpf's private error codes, indexed by code - 4000
// (LIBBPF_ERRNO__LIBELF .. LIBBPF_ERRNO__NLPARSE in <bpf/libbpf.h>).
const char* const kLibbpfErrNames[] = {
    "LIBELF",  "FORMAT", "KVERSION", "ENDIAN",   "INTERNAL",
    "RELOC",   "LOAD",   "VERIFY",   "PROG2BIG", "KVER",
    "PROGTYPE", "WRNGPID", "INVSEQ", "NLPARSE",
};
static_assert(sizeof(kLibbpfErrNames) / sizeof(kLibbpfErrNames[0]) ==
                  __LIBBPF_ERRNO__END - __LIBBPF_ERRNO__START,
              "libbpf error table out of date");

// Linux errno 524, used inside the kernel and returned by some bpf() paths;
// neither libuv nor glibc has a name for it.
constexpr int kENOTSUPP = 524;

std::string ErrCode(int e) {
  if (e >= __LIBBPF_ERRNO__START && e < __LIBBPF_ERRNO__END) {
    return std::string("XLB_ERR_BPF_") + kLibbpfErrNames[e - __LIBBPF_ERRNO__START];
  }
  char buf[64];
  uv_err_name_r(-e, buf, sizeof(buf));
  if (std::strncmp(buf, "Unknown", 7) != 0) return buf;
  if (const char* name = strerrorname_np(e)) return name;
  if (e == kENOTSUPP) return "ENOTSUPP";
  return "EUNKNOWN_" + std::to_string(e);
}

}  // namespace

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall,
                       const std::string& detail, const std::string& path) {
  int e = err < 0 ? -err : err;
  if (e == 0) e = EIO;  // a failure without an errno: never report success
  char text[256];
  libbpf_strerror(e, text, sizeof(text));
  std::string message = std::string(syscall) + " failed: " + text;
  const std::string& suffix = detail.empty() ? path : detail;
  if (!suffix.empty()) message += " (" + suffix + ")";
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("code", Napi::String::New(env, ErrCode(e)));
  obj.Set("errno", Napi::Number::New(env, -e));
  obj.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) obj.Set("path", Napi::String::New(env, path));
  return error;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall,
                const std::string& detail, const std::string& path) {
  throw ErrnoError(env, err, syscall, detail, path);
}

void SetStringProp(Napi::Error& err, const char* key, const std::string& text) {
  err.Value().Set(key, Napi::String::New(err.Env(), text));
}

void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

void ThrowState(Napi::Env env, const std::string& message) {
  throw Napi::Error::New(env, message);
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i,
                      const char* what) {
  if (!info[i].IsString()) ThrowType(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

uint32_t Uint32Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) ThrowType(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

int32_t Int32Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) ThrowType(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

uint32_t OptUint32Arg(const Napi::CallbackInfo& info, size_t i,
                      const char* what, uint32_t dflt) {
  if (info[i].IsUndefined()) return dflt;
  return Uint32Arg(info, i, what);
}

Napi::Buffer<uint8_t> AnyBufferArg(const Napi::CallbackInfo& info, size_t i,
                                   const char* what) {
  if (!info[i].IsBuffer()) ThrowType(info.Env(), std::string(what) + " must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t i,
                                const char* what, size_t len) {
  if (info[i].IsBuffer()) {
    Napi::Buffer<uint8_t> buf = info[i].As<Napi::Buffer<uint8_t>>();
    if (buf.Length() == len) return buf;
  }
  ThrowType(info.Env(), std::string(what) + " must be a Buffer of " +
                            std::to_string(len) + " bytes");
}

}  // namespace xlb
