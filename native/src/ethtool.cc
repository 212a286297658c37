// ethtool.cc - see ethtool.h.
#include "ethtool.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"

namespace xlb {

namespace {

// A datagram socket closed on scope exit: SIOCETHTOOL needs any socket of
// the namespace the device lives in (the calling thread's, when it is made).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// One SIOCETHTOOL call on ifname with `data` (an ethtool_* struct whose first
// field is the command). Returns 0 or errno.
int EthtoolIoctl(int fd, const char* ifname, void* data) {
  struct ifreq ifr = {};
  size_t n = strnlen(ifname, IFNAMSIZ - 1);  // ifr_name stays NUL-terminated
  std::memcpy(ifr.ifr_name, ifname, n);
  ifr.ifr_data = static_cast<char*>(data);
  return ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? 0 : errno;
}

// A legacy ETHTOOL_G* value command (ethtool_value): true/false, or null when
// the driver does not answer it (EOPNOTSUPP); other errors throw.
Napi::Value GetValue(Napi::Env env, int fd, const char* ifname, uint32_t cmd, const char* what) {
  struct ethtool_value v = {};
  v.cmd = cmd;
  int err = EthtoolIoctl(fd, ifname, &v);
  if (err == EOPNOTSUPP) return env.Null();
  if (err) ThrowErrno(env, err, "ioctl", std::string("SIOCETHTOOL ") + what + " on " + ifname);
  return Napi::Boolean::New(env, v.data != 0);
}

// ethtoolQuery(ifindex): in the CALLING thread's network namespace (call it
// between enterNetns and restoreNetns for another one), the device's name
// (if_indextoname), its driver and bus (ETHTOOL_GDRVINFO), and whether GRO
// (ETHTOOL_GGRO) and transmit checksumming (ETHTOOL_GTXCSUM: any of the
// NETIF_F_CSUM_MASK features) are on. Returns
// { ifname, driver, busInfo, gro, txChecksum }; driver is '' and gro /
// txChecksum null when the device does not answer that command.
// Throws ENXIO/ENODEV for no such ifindex, EPERM etc.
Napi::Value EthtoolQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex = Uint32Arg(info, 0, "ethtoolQuery: ifindex");
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(ifindex, name) == nullptr) {
    ThrowErrno(env, errno, "if_indextoname", "ifindex " + std::to_string(ifindex));
  }
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) ThrowErrno(env, errno, "socket", "AF_INET, SOCK_DGRAM");

  Napi::Object out = Napi::Object::New(env);
  out.Set("ifname", Napi::String::New(env, name));
  struct ethtool_drvinfo drv = {};
  drv.cmd = ETHTOOL_GDRVINFO;
  int err = EthtoolIoctl(fd.get(), name, &drv);
  if (err && err != EOPNOTSUPP) {
    ThrowErrno(env, err, "ioctl", std::string("SIOCETHTOOL ETHTOOL_GDRVINFO on ") + name);
  }
  drv.driver[sizeof(drv.driver) - 1] = '\0';
  drv.bus_info[sizeof(drv.bus_info) - 1] = '\0';
  out.Set("driver", Napi::String::New(env, err ? "" : drv.driver));
  out.Set("busInfo", Napi::String::New(env, err ? "" : drv.bus_info));
  out.Set("gro", GetValue(env, fd.get(), name, ETHTOOL_GGRO, "ETHTOOL_GGRO"));
  out.Set("txChecksum", GetValue(env, fd.get(), name, ETHTOOL_GTXCSUM, "ETHTOOL_GTXCSUM"));
  return out;
}

}  // namespace

void InitEthtool(Napi::Env env, Napi::Object exports) {
  exports.Set("ethtoolQuery", Napi::Function::New<EthtoolQuery>(env, "ethtoolQuery"));
}

}  // namespace xlb
