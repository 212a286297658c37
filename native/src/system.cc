// system.cc - see system.h.
#include "system.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "test_run.h"

namespace xlb {

namespace {

// The anon-inode name of fd ("bpf-map", ...), or "" if it is something else.
std::string AnonInodeName(int fd) {
  char link[64];
  char target[128];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof(target) - 1);
  if (n < 0) return "";
  target[n] = '\0';
  static const char kPrefix[] = "anon_inode:";
  if (std::strncmp(target, kPrefix, sizeof(kPrefix) - 1) != 0) return "";
  return target + sizeof(kPrefix) - 1;
}

}  // namespace

int OpenPin(Napi::Env env, const std::string& path, const char* kind) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) ThrowErrno(env, fd, "bpf_obj_get", "", path);
  std::string name = AnonInodeName(fd);
  if (name == std::string("bpf-") + kind || name == std::string("bpf_") + kind) return fd;
  close(fd);
  ThrowErrno(env, EINVAL, "bpf_obj_get",
             path + " holds a " + (name.empty() ? "non-BPF object" : name) + ", not a " + kind,
             path);
}

int PossibleCpus(Napi::Env env) {
  int n = libbpf_num_possible_cpus();  // cached by libbpf after the first call
  if (n < 0) ThrowErrno(env, n, "libbpf_num_possible_cpus");
  return n;
}

namespace {

Napi::Value PossibleCpusJS(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), PossibleCpus(info.Env()));
}

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

// enterNetns(path): moves the CALLING thread (only) into the network
// namespace at path; returns an fd of the namespace it was in, for
// restoreNetns. libuv's worker threads stay where they were.
Napi::Value EnterNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "enterNetns: path");
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) ThrowErrno(env, errno, "open", "", "/proc/thread-self/ns/net");
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(self);
    ThrowErrno(env, err, "open", "", path);
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int err = errno;
    close(target);
    close(self);
    ThrowErrno(env, err, "setns", "", path);
  }
  close(target);
  return Napi::Number::New(env, self);
}

// restoreNetns(fd): setns back to fd and close it. On failure fd stays open
// (the thread is still in the other namespace; the caller may retry).
Napi::Value RestoreNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd = Int32Arg(info, 0, "restoreNetns: fd");
  if (setns(fd, CLONE_NEWNET) != 0) ThrowErrno(env, errno, "setns");
  close(fd);
  return env.Undefined();
}

Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "ifNameToIndex: name");
  unsigned int index = if_nametoindex(name.c_str());
  if (index == 0) ThrowErrno(env, errno, "if_nametoindex", name);
  return Napi::Number::New(env, index);
}

// setThreadRealtime(priority): the CALLING thread's scheduling policy:
// SCHED_FIFO at `priority` (1..99), or back to SCHED_OTHER with 0. Children
// it forks do not inherit a real-time policy (SCHED_RESET_ON_FORK). For the
// VRRP worker thread (keepalived's vrrp_rt_priority). Needs CAP_SYS_NICE.
Napi::Value SetThreadRealtime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t priority = Uint32Arg(info, 0, "setThreadRealtime: priority");
  struct sched_param param = {};
  param.sched_priority = static_cast<int>(priority);
  int policy = priority == 0 ? SCHED_OTHER : (SCHED_FIFO | SCHED_RESET_ON_FORK);
  // pid 0: the calling thread (Linux schedules threads, not processes)
  if (sched_setscheduler(0, policy, &param) != 0) {
    ThrowErrno(env, errno, "sched_setscheduler", "priority " + std::to_string(priority));
  }
  return env.Undefined();
}

// xdpQuery(ifindex): what XDP program is attached to ifindex (in the calling
// thread's netns), or null.
Napi::Value XdpQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex = Uint32Arg(info, 0, "xdpQuery: ifindex");
  struct bpf_xdp_query_opts opts = {};
  opts.sz = sizeof(opts);
  int err = bpf_xdp_query(static_cast<int>(ifindex), 0, &opts);
  if (err) ThrowErrno(env, err, "bpf_xdp_query", "ifindex " + std::to_string(ifindex));
  const char* mode;
  uint32_t progId = opts.prog_id;
  switch (opts.attach_mode) {
    case XDP_ATTACHED_NONE:
      return env.Null();
    case XDP_ATTACHED_DRV:
      mode = "native";
      break;
    case XDP_ATTACHED_SKB:
      mode = "generic";
      break;
    case XDP_ATTACHED_HW:
      mode = "hw";
      break;
    default:
      mode = "multi";
      progId = opts.drv_prog_id != 0 ? opts.drv_prog_id : opts.skb_prog_id;
      break;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("progId", Napi::Number::New(env, progId));
  result.Set("mode", Napi::String::New(env, mode));
  return result;
}

// testRunFd(progFd, data, dataOut, repeat, ingressIfindex, rxQueueIndex,
// result): the allocation-free BPF_PROG_TEST_RUN for benchmark loops. The
// output packet goes into dataOut (its length is the capacity) and
// result[0..2] = [retval, dataSizeOut, durationNs]. ingressIfindex 0 means
// no ctx_in. Returns retval.
Napi::Value TestRunFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd = Int32Arg(info, 0, "testRunFd: progFd");
  Napi::Buffer<uint8_t> data = AnyBufferArg(info, 1, "testRunFd: data");
  Napi::Buffer<uint8_t> out = AnyBufferArg(info, 2, "testRunFd: dataOut");
  uint32_t repeat = Uint32Arg(info, 3, "testRunFd: repeat");
  uint32_t ingress = Uint32Arg(info, 4, "testRunFd: ingressIfindex");
  uint32_t rxQueue = Uint32Arg(info, 5, "testRunFd: rxQueueIndex");
  if (!info[6].IsTypedArray() ||
      info[6].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[6].As<Napi::TypedArray>().ElementLength() < 3) {
    ThrowType(env, "testRunFd: result must be a Uint32Array of at least 3 elements");
  }
  uint32_t* result = info[6].As<Napi::Uint32Array>().Data();
  TestRunOut r;
  int err = RunXdpTest(fd, data.Data(), static_cast<uint32_t>(data.Length()), out.Data(),
                       static_cast<uint32_t>(out.Length()), repeat, ingress != 0, ingress,
                       rxQueue, 0, 0, &r);
  if (err) ThrowErrno(env, err, "bpf_prog_test_run_opts");
  result[0] = r.retval;
  result[1] = r.sizeOut;
  result[2] = r.duration;
  return Napi::Number::New(env, r.retval);
}

}  // namespace

void InitSystem(Napi::Env env, Napi::Object exports) {
  exports.Set("possibleCpus", Napi::Function::New<PossibleCpusJS>(env, "possibleCpus"));
  exports.Set("libbpfVersion", Napi::Function::New<LibbpfVersion>(env, "libbpfVersion"));
  exports.Set("enterNetns", Napi::Function::New<EnterNetns>(env, "enterNetns"));
  exports.Set("restoreNetns", Napi::Function::New<RestoreNetns>(env, "restoreNetns"));
  exports.Set("ifNameToIndex", Napi::Function::New<IfNameToIndex>(env, "ifNameToIndex"));
  exports.Set("xdpQuery", Napi::Function::New<XdpQuery>(env, "xdpQuery"));
  exports.Set("setThreadRealtime", Napi::Function::New<SetThreadRealtime>(env, "setThreadRealtime"));
  exports.Set("testRunFd", Napi::Function::New<TestRunFd>(env, "testRunFd"));
}

}  // namespace xlb
