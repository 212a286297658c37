// system.h - module-level functions (netns, ifindex, XDP query, possible
// CPUs, libbpf version, testRunFd) and small fd helpers.
#ifndef XLB_NATIVE_SYSTEM_H
#define XLB_NATIVE_SYSTEM_H

#include <napi.h>

#include <string>

namespace xlb {

// Registers the module-level functions on `exports`.
void InitSystem(Napi::Env env, Napi::Object exports);

// Opens the object pinned at path (bpf_obj_get) and checks that it is a
// `kind` ("map" or "link"; the kernel names the fd's anon inode "bpf-map",
// "bpf-link" or "bpf_link"). Returns the fd; throws ENOENT etc., or EINVAL
// when the pin holds another kind of object.
int OpenPin(Napi::Env env, const std::string& path, const char* kind);

// libbpf_num_possible_cpus(), cached; throws on failure.
int PossibleCpus(Napi::Env env);

}  // namespace xlb

#endif  // XLB_NATIVE_SYSTEM_H
