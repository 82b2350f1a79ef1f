// kvlab native addon entry point: the Nic class (libfabric) and the pmem functions (libpmem).
#include <napi.h>
#include <libpmem.h>

#include <set>
#include <string>

#include "nic.h"

namespace kvlab {
void InitPmem(Napi::Env env, Napi::Object exports);
}

namespace {

// versions() -> { libfabric, libfabricApi, libpmem }
Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  const uint32_t v = fi_version();
  o.Set("libfabric", std::to_string(FI_MAJOR(v)) + "." + std::to_string(FI_MINOR(v)));
  o.Set("libfabricApi", std::to_string(FI_MAJOR_VERSION) + "." + std::to_string(FI_MINOR_VERSION));
  o.Set("libpmem", std::to_string(PMEM_MAJOR_VERSION) + "." + std::to_string(PMEM_MINOR_VERSION));
  return o;
}

// providers() -> names of the libfabric providers offering RDM endpoints on this machine.
Napi::Value Providers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  fi_info* hints = fi_allocinfo();
  hints->ep_attr->type = FI_EP_RDM;
  fi_info* list = nullptr;
  std::set<std::string> names;
  if (fi_getinfo(FI_VERSION(1, 9), nullptr, nullptr, 0, hints, &list) == 0) {
    for (fi_info* i = list; i != nullptr; i = i->next) names.insert(i->fabric_attr->prov_name);
    fi_freeinfo(list);
  }
  fi_freeinfo(hints);
  Napi::Array a = Napi::Array::New(env, names.size());
  uint32_t k = 0;
  for (const auto& n : names) a.Set(k++, n);
  return a;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Nic", kvlab::Nic::Init(env));
  exports.Set("versions", Napi::Function::New(env, Versions, "versions"));
  exports.Set("providers", Napi::Function::New(env, Providers, "providers"));
  kvlab::InitPmem(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(kvlab_native, Init)
