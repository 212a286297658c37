// ethtool.h - the SIOCETHTOOL ioctl: a device's driver and the two features
// XDP on veth depends on (GRO, transmit checksumming). Syscalls only: what
// the answers mean for xlb is decided in TypeScript (src/daemon/veth-check.ts).
#ifndef XLB_NATIVE_ETHTOOL_H
#define XLB_NATIVE_ETHTOOL_H

#include <napi.h>

namespace xlb {

// Registers ethtoolQuery on `exports`.
void InitEthtool(Napi::Env env, Napi::Object exports);

}  // namespace xlb

#endif  // XLB_NATIVE_ETHTOOL_H
