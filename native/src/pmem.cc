// kvlab native addon: the libpmem side. A PM region is a file mapped with pmem_map_file (a DAX
// file on real persistent memory, an ordinary file elsewhere), handed to JavaScript as an external
// ArrayBuffer over the mapping itself, so JavaScript loads and stores go straight to the mapping.
#include <napi.h>
#include <libpmem.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace kvlab {

namespace {

struct Mapping {
  void* addr = nullptr;
  size_t len = 0;
  bool isPmem = false;
  bool live = false;
};

std::vector<Mapping> maps;

Mapping* mapping(const Napi::Value& v) {
  const double id = v.As<Napi::Number>().DoubleValue();
  if (!(id >= 0) || id >= static_cast<double>(maps.size())) return nullptr;
  Mapping* m = &maps[static_cast<size_t>(id)];
  return m->live ? m : nullptr;
}

bool inRange(const Mapping* m, double off, double len) {
  return off >= 0 && len >= 0 && off + len <= static_cast<double>(m->len);
}

// pmemMap(path, size) -> { buffer, isPmem, handle, created }. An existing file is mapped whole and
// must have exactly `size` bytes (it is never truncated or extended).
Napi::Value Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const double sz = info[1].As<Napi::Number>().DoubleValue();
  if (!(sz > 0)) throw Napi::RangeError::New(env, "pmemMap: size must be positive");
  struct stat st;
  const bool exists = stat(path.c_str(), &st) == 0;
  size_t mapped = 0;
  int isPmem = 0;
  void* addr;
  if (exists) {
    if (static_cast<double>(st.st_size) != sz) {
      throw Napi::Error::New(env, "pm region " + path + ": reopened with size " + std::to_string(static_cast<long long>(sz)) + ", file has " +
                                      std::to_string(static_cast<long long>(st.st_size)));
    }
    addr = pmem_map_file(path.c_str(), 0, 0, 0, &mapped, &isPmem);
  } else {
    addr = pmem_map_file(path.c_str(), static_cast<size_t>(sz), PMEM_FILE_CREATE | PMEM_FILE_EXCL, 0600, &mapped, &isPmem);
  }
  if (addr == nullptr) throw Napi::Error::New(env, std::string("pmem_map_file ") + path + ": " + pmem_errormsg());
  Mapping m;
  m.addr = addr;
  m.len = mapped;
  m.isPmem = isPmem != 0;
  m.live = true;
  maps.push_back(m);
  const size_t id = maps.size() - 1;
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, addr, mapped, [](Napi::Env, void*, size_t* idp) {
    Mapping& mm = maps[*idp];
    if (mm.live) {
      pmem_unmap(mm.addr, mm.len);
      mm.live = false;
    }
    delete idp;
  }, new size_t(id));
  Napi::Object o = Napi::Object::New(env);
  o.Set("buffer", ab);
  o.Set("isPmem", m.isPmem);
  o.Set("handle", Napi::Number::New(env, static_cast<double>(id)));
  o.Set("created", !exists);
  return o;
}

// pmemPersist(handle, off, len, mode): mode 0 = auto (pmem_persist on real PM, pmem_msync
// elsewhere), 1 = pmem_persist (cache-line flush + fence) always, 2 = pmem_msync always.
Napi::Value Persist(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = mapping(info[0]);
  const double off = info[1].As<Napi::Number>().DoubleValue(), len = info[2].As<Napi::Number>().DoubleValue();
  if (!m || !inRange(m, off, len)) throw Napi::RangeError::New(env, "pmemPersist: bad mapping or range");
  const int mode = info.Length() > 3 ? info[3].As<Napi::Number>().Int32Value() : 0;
  char* p = static_cast<char*>(m->addr) + static_cast<size_t>(off);
  if (mode == 1 || (mode == 0 && m->isPmem)) {
    pmem_persist(p, static_cast<size_t>(len));
  } else if (pmem_msync(p, static_cast<size_t>(len)) != 0) {
    throw Napi::Error::New(env, std::string("pmem_msync: ") + pmem_errormsg());
  }
  return env.Undefined();
}

// pmemMemcpyPersist(handle, off, bytes, mode): copy + persist in one call (pmem_memcpy_persist on
// real PM or mode 1; memcpy + pmem_msync otherwise).
Napi::Value MemcpyPersist(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = mapping(info[0]);
  const double off = info[1].As<Napi::Number>().DoubleValue();
  Napi::Uint8Array u = info[2].As<Napi::Uint8Array>();
  if (!m || !inRange(m, off, static_cast<double>(u.ByteLength()))) throw Napi::RangeError::New(env, "pmemMemcpyPersist: bad mapping or range");
  const int mode = info.Length() > 3 ? info[3].As<Napi::Number>().Int32Value() : 0;
  char* p = static_cast<char*>(m->addr) + static_cast<size_t>(off);
  if (mode == 1 || (mode == 0 && m->isPmem)) {
    pmem_memcpy_persist(p, u.Data(), u.ByteLength());
  } else {
    memcpy(p, u.Data(), u.ByteLength());
    if (pmem_msync(p, u.ByteLength()) != 0) throw Napi::Error::New(env, std::string("pmem_msync: ") + pmem_errormsg());
  }
  return env.Undefined();
}

// pmemMemcpyNodrain(handle, off, bytes): pmem_memcpy_nodrain — the copy libpmem uses for
// persistent stores (non-temporal stores for large sizes), not yet drained; pmemDrain() (sfence)
// or pmemPersist makes it durable.
Napi::Value MemcpyNodrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = mapping(info[0]);
  const double off = info[1].As<Napi::Number>().DoubleValue();
  Napi::Uint8Array u = info[2].As<Napi::Uint8Array>();
  if (!m || !inRange(m, off, static_cast<double>(u.ByteLength()))) throw Napi::RangeError::New(env, "pmemMemcpyNodrain: bad mapping or range");
  pmem_memcpy_nodrain(static_cast<char*>(m->addr) + static_cast<size_t>(off), u.Data(), u.ByteLength());
  return env.Undefined();
}

Napi::Value Drain(const Napi::CallbackInfo& info) {
  pmem_drain();
  return info.Env().Undefined();
}

// pmemUnmap(handle, buffer): detaches the ArrayBuffer (so no stale view can touch the unmapped
// range) and unmaps.
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = mapping(info[0]);
  if (!m) return env.Undefined();
  if (info.Length() > 1 && info[1].IsArrayBuffer()) {
    Napi::ArrayBuffer ab = info[1].As<Napi::ArrayBuffer>();
    if (ab.Data() == m->addr) ab.Detach();
  }
  pmem_unmap(m->addr, m->len);
  m->live = false;
  return env.Undefined();
}

Napi::Value IsPmem(const Napi::CallbackInfo& info) {
  Mapping* m = mapping(info[0]);
  return Napi::Boolean::New(info.Env(), m != nullptr && m->isPmem);
}

}  // namespace

void InitPmem(Napi::Env env, Napi::Object exports) {
  exports.Set("pmemMap", Napi::Function::New(env, Map, "pmemMap"));
  exports.Set("pmemPersist", Napi::Function::New(env, Persist, "pmemPersist"));
  exports.Set("pmemMemcpyPersist", Napi::Function::New(env, MemcpyPersist, "pmemMemcpyPersist"));
  exports.Set("pmemUnmap", Napi::Function::New(env, Unmap, "pmemUnmap"));
  exports.Set("pmemMemcpyNodrain", Napi::Function::New(env, MemcpyNodrain, "pmemMemcpyNodrain"));
  exports.Set("pmemDrain", Napi::Function::New(env, Drain, "pmemDrain"));
  exports.Set("pmemIsPmem", Napi::Function::New(env, IsPmem, "pmemIsPmem"));
}

}  // namespace kvlab
