{
  # kvlab's native addon: libfabric (RDMA verbs / tcp / sockets) + libpmem, for Node-API.
  # Build: cd native && npx node-gyp rebuild   (needs libfabric-dev and libpmem-dev; see docs/native.md)
  "targets": [
    {
      "target_name": "kvlab_native",
      "sources": ["src/addon.cc", "src/nic.cc", "src/pmem.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "libraries": ["-lfabric", "-lpmem"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wno-missing-field-initializers"],
    }
  ]
}
