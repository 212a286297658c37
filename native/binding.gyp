# xlb native addon: node-addon-api (C++17, exceptions on) over the system libbpf.
# Build: cd native && ../node_modules/.bin/node-gyp rebuild  (output: build/Release/xlb_native.node)
{
  "targets": [
    {
      "target_name": "xlb_native",
      "sources": [
        "src/addon.cc",
        "src/bfd_echo.cc",
        "src/bpf_link.cc",
        "src/bpf_map.cc",
        "src/bpf_object.cc",
        "src/errors.cc",
        "src/ethtool.cc",
        "src/libbpf_log.cc",
        "src/link_socket.cc",
        "src/polled_socket.cc",
        "src/probe_engine.cc",
        "src/raw_socket.cc",
        "src/socket_util.cc",
        "src/system.cc",
        "src/test_run.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags": ["<!@(pkg-config --cflags libbpf)", "-fvisibility=hidden", "-Wall", "-Wextra"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fvisibility=hidden", "-Wall", "-Wextra"],
      "libraries": ["<!@(pkg-config --libs libbpf)"]
    }
  ]
}
