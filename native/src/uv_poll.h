// uv_poll.h - UvPoll: an RAII uv_poll_t on the env's event loop (H-22, H-23).
//
// Readiness of a socket fd delivered on the event-loop thread, no threads.
// The handle is malloc'ed and freed by its uv_close callback, so an owner
// may be destroyed while the close is still pending.
//
// Rules that bind the owner:
// - Close() (or Stop()) must run BEFORE the fd is closed: libuv must not poll
//   a closed fd ("The user should not close a file descriptor while it is
//   being polled by an active poll handle", uv docs).
// - Whenever the owner goes away, Close() must have run: the callback's data
//   pointer is the owner.
// - libuv stops the handle by itself when the kernel reports POLLERR (e.g. a
//   pending socket error) and calls back with status UV_EBADF; the owner reads
//   SO_ERROR and restarts it with Start() if it wants more events.
#ifndef XLB_NATIVE_UV_POLL_H
#define XLB_NATIVE_UV_POLL_H

#include <uv.h>

#include <cstdlib>

namespace xlb {

class UvPoll {
 public:
  UvPoll() = default;
  ~UvPoll() { Close(); }
  UvPoll(const UvPoll&) = delete;
  UvPoll& operator=(const UvPoll&) = delete;

  // Starts (or restarts, with new events) watching fd. The first call inits
  // the handle on loop for fd; later calls must pass the same fd. data is
  // stored in handle->data for cb. Returns 0 or a negative libuv error.
  int Start(uv_loop_t* loop, int fd, int events, uv_poll_cb cb, void* data) {
    if (h_ == nullptr) {
      auto* h = static_cast<uv_poll_t*>(std::malloc(sizeof(uv_poll_t)));
      if (h == nullptr) return UV_ENOMEM;
      int err = uv_poll_init(loop, h, fd);
      if (err != 0) {
        // Never uv_poll_stop/uv_close a handle whose init failed.
        std::free(h);
        return err;
      }
      h_ = h;
    }
    h_->data = data;
    return uv_poll_start(h_, events, cb);
  }

  // Stops watching; the handle stays for a later Start(). Idempotent.
  void Stop() {
    if (h_ != nullptr) uv_poll_stop(h_);
  }

  // Stops and closes the handle (freed in the close callback). Idempotent.
  //
  // The close callback is libc's free(), NOT code of this addon: at a
  // worker's teardown the env cleanup hook closes the handle, Node then
  // unloads the addon, and only afterwards runs the loop that calls close
  // callbacks (a lambda here crashed exactly so). free() takes the handle
  // pointer like a uv_close_cb would (same ABI for one pointer argument).
  void Close() {
    if (h_ == nullptr) return;
    h_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(h_), reinterpret_cast<uv_close_cb>(&std::free));
    h_ = nullptr;
  }

  // Whether the handle keeps the loop alive (uv_ref / uv_unref): an owner
  // with nothing in flight lets the process exit. No syscall.
  void SetRef(bool ref) {
    if (h_ == nullptr) return;
    if (ref) uv_ref(reinterpret_cast<uv_handle_t*>(h_));
    else uv_unref(reinterpret_cast<uv_handle_t*>(h_));
  }

  bool Active() const {
    return h_ != nullptr && uv_is_active(reinterpret_cast<const uv_handle_t*>(h_));
  }

 private:
  uv_poll_t* h_ = nullptr;
};

}  // namespace xlb

#endif  // XLB_NATIVE_UV_POLL_H
