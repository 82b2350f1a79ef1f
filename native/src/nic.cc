// kvlab native addon: the libfabric side. See nic.h and docs/platform.md.
//
// Threading: every method runs on the JavaScript thread. Completions are read with fi_cq_read in
// batches into a Float64Array shared with JavaScript (no object per completion). When JavaScript
// is idle, the CQ's wait fd (FI_WAIT_FD) is watched by a uv_poll handle on Node's own event loop,
// so a passive node is progressed (RMA targets, emulated atomics) without a helper thread.
#include "nic.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <netinet/in.h>

namespace kvlab {

namespace {

constexpr uint64_t RPC_MAGIC = 0x534143626c766b00ull;  // "\0kvlbCAS"
constexpr size_t RPC_REQ_BYTES = 56;                  // 7 words, then the requester's address
constexpr size_t RPC_REP_OFFSET = 192;                 // reply area inside the CAS context's stage
constexpr int RPC_SERVER_RECVS = 32;
constexpr int READ_BATCH = 64;
constexpr int EAGAIN_RETRIES = 4;

// kvlab Access bits (src/platform/fabric.ts).
constexpr int ACC_REMOTE_READ = 2;
constexpr int ACC_REMOTE_WRITE = 4;
constexpr int ACC_REMOTE_ATOMIC = 8;

std::string mapProvider(const std::string& p) {
  if (p == "tcp") return "tcp;ofi_rxm";
  if (p == "verbs") return "verbs;ofi_rxm";
  return p;  // "sockets", or a literal libfabric provider string such as "shm"
}

void throwFi(Napi::Env env, const char* what, int rc) {
  throw Napi::Error::New(env, std::string("libfabric ") + what + ": " + fi_strerror(rc < 0 ? -rc : rc) + " (" + std::to_string(rc) + ")");
}

void onPoll(uv_poll_t* h, int status, int events);

}  // namespace

Napi::Function Nic::Init(Napi::Env env) {
  return DefineClass(env, "Nic",
                     {
                         InstanceMethod("info", &Nic::Info),
                         InstanceMethod("createEndpoint", &Nic::CreateEndpoint),
                         InstanceMethod("getName", &Nic::GetName),
                         InstanceMethod("avInsertService", &Nic::AvInsertService),
                         InstanceMethod("avInsertName", &Nic::AvInsertName),
                         InstanceMethod("addBuffer", &Nic::AddBuffer),
                         InstanceMethod("regMr", &Nic::RegMr),
                         InstanceMethod("deregMr", &Nic::DeregMr),
                         InstanceMethod("setIo", &Nic::SetIo),
                         InstanceMethod("postSend", &Nic::PostSend),
                         InstanceMethod("postRecv", &Nic::PostRecv),
                         InstanceMethod("postWrite", &Nic::PostWrite),
                         InstanceMethod("postRead", &Nic::PostRead),
                         InstanceMethod("postCas", &Nic::PostCas),
                         InstanceMethod("cancel", &Nic::Cancel),
                         InstanceMethod("poll", &Nic::Poll),
                         InstanceMethod("tryWait", &Nic::TryWait),
                         InstanceMethod("onReadable", &Nic::OnReadable),
                         InstanceMethod("stats", &Nic::Stats),
                         InstanceMethod("close", &Nic::Close),
                     });
}

// new Nic({ provider, host, port, atomics, cqSize })
Nic::Nic(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Nic>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  Napi::Object o = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
  auto str = [&](const char* k, const char* d) {
    Napi::Value v = o.Get(k);
    if (v.IsString()) return v.As<Napi::String>().Utf8Value();
    if (v.IsNumber()) return std::to_string(v.As<Napi::Number>().Int64Value());
    return std::string(d);
  };
  open(env, str("provider", "tcp"), str("host", ""), str("port", ""), str("atomics", "auto"), str("completion", "delivery"));
}

Nic::~Nic() { closeAll(); }

void Nic::open(Napi::Env env, const std::string& provArg, const std::string& host, const std::string& port, const std::string& atomics,
               const std::string& completion) {
  const std::string prov = mapProvider(provArg);
  if (atomics != "auto" && atomics != "native" && atomics != "rpc") throw Napi::Error::New(env, "atomics must be auto, native or rpc");
  if (completion != "delivery" && completion != "transmit") throw Napi::Error::New(env, "completion must be delivery or transmit");
  // delivery: request FI_DELIVERY_COMPLETE (fall back to the provider's default if refused);
  // transmit: never (the adapter confirms placement itself, with a READ after the operations).
  const std::vector<bool> dcChoices = completion == "delivery" ? std::vector<bool>{true, false} : std::vector<bool>{false};
  std::vector<bool> atomicChoices;
  if (atomics == "auto") atomicChoices = {true, false};
  else atomicChoices = {atomics == "native"};
  int rc = -FI_ENODATA;
  for (bool withAtomic : atomicChoices) {
    for (bool dc : dcChoices) {
      fi_info* hints = fi_allocinfo();
      hints->ep_attr->type = FI_EP_RDM;
      hints->caps = FI_MSG | FI_TAGGED | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE | FI_SEND | FI_RECV | FI_MULTI_RECV |
                    (withAtomic ? FI_ATOMIC : 0);
      hints->mode = FI_CONTEXT | FI_CONTEXT2;
      hints->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY;
      hints->domain_attr->threading = FI_THREAD_DOMAIN;
      if (dc) hints->tx_attr->op_flags = FI_DELIVERY_COMPLETE;
      hints->fabric_attr->prov_name = strdup(prov.c_str());
      const char* node = host.empty() ? nullptr : host.c_str();
      const char* service = port.empty() ? nullptr : port.c_str();
      rc = fi_getinfo(FI_VERSION(1, 9), node, service, node != nullptr || service != nullptr ? FI_SOURCE : 0, hints, &info_);
      fi_freeinfo(hints);
      if (rc == 0) {
        atomicsNative_ = withAtomic;
        deliveryComplete_ = dc;
        break;
      }
    }
    if (rc == 0) break;
  }
  if (rc != 0) {
    throw Napi::Error::New(env, "libfabric: no provider matches '" + prov + "' (RDM endpoints with MSG, TAGGED, RMA, MULTI_RECV) at " + (host.empty() ? "*" : host) +
                                    ":" + (port.empty() ? "*" : port) + ": " + fi_strerror(-rc) + " — check `fi_info -p \"" + prov + "\" -t FI_EP_RDM`");
  }
  provider_ = info_->fabric_attr->prov_name;
  const int mm = info_->domain_attr->mr_mode;
  mrLocal_ = (mm & FI_MR_LOCAL) != 0;
  virtAddr_ = (mm & FI_MR_VIRT_ADDR) != 0;
  provKey_ = (mm & FI_MR_PROV_KEY) != 0;
  cqDataSize_ = info_->domain_attr->cq_data_size;

  rc = fi_fabric(info_->fabric_attr, &fabric_, nullptr);
  if (rc) throwFi(env, "fi_fabric", rc);
  rc = fi_domain(fabric_, info_, &domain_, nullptr);
  if (rc) throwFi(env, "fi_domain", rc);
  fi_av_attr aa{};
  aa.type = FI_AV_TABLE;
  rc = fi_av_open(domain_, &aa, &av_, nullptr);
  if (rc) throwFi(env, "fi_av_open", rc);
  fi_cq_attr ca{};
  ca.format = FI_CQ_FORMAT_DATA;
  ca.size = 16384;
  ca.wait_obj = FI_WAIT_FD;
  rc = fi_cq_open(domain_, &ca, &cq_, nullptr);
  if (rc) {
    ca.wait_obj = FI_WAIT_NONE;
    rc = fi_cq_open(domain_, &ca, &cq_, nullptr);
    if (rc) throwFi(env, "fi_cq_open", rc);
  } else if (fi_control(&cq_->fid, FI_GETWAIT, &waitFd_) != 0) {
    waitFd_ = -1;
  }
  closed_ = false;
  if (openEndpoint(info_, 0, false) != 0) throwFi(env, "main endpoint", -FI_EOTHER);
  size_t nl = 0;
  fi_getname(&eps_[0].ep->fid, nullptr, &nl);
  mainName_.resize(nl);
  rc = fi_getname(&eps_[0].ep->fid, mainName_.data(), &nl);
  if (rc) throwFi(env, "fi_getname", rc);
  mainName_.resize(nl);
  for (int i = 0; i < RPC_SERVER_RECVS; i++) {
    Ctx* c = ctxAlloc(0, K_RPC_SRV_RECV);
    if (!ctxStage(c, 128) || postRpcServerRecv(c) != 0) throwFi(env, "posting CAS request buffers", -FI_EOTHER);
  }
  if (waitFd_ >= 0) {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (uv_poll_init(loop, poll_, waitFd_) != 0) {
      delete poll_;
      poll_ = nullptr;
    } else {
      uv_poll_start(poll_, UV_READABLE, onPoll);
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    }
  }
}

int Nic::openEndpoint(fi_info* info, size_t minMultiRecv, bool multi) {
  Ep e;
  int rc = fi_endpoint(domain_, info, &e.ep, nullptr);
  if (rc) return rc;
  rc = fi_ep_bind(e.ep, &av_->fid, 0);
  if (!rc) rc = fi_ep_bind(e.ep, &cq_->fid, FI_TRANSMIT | FI_RECV);
  if (!rc && multi) rc = fi_setopt(&e.ep->fid, FI_OPT_ENDPOINT, FI_OPT_MIN_MULTI_RECV, &minMultiRecv, sizeof minMultiRecv);
  if (!rc) rc = fi_enable(e.ep);
  if (rc) {
    fi_close(&e.ep->fid);
    return rc;
  }
  e.multi = multi;
  eps_.push_back(e);
  return 0;
}

void Nic::checkOpen(Napi::Env env) {
  if (closed_) throw Napi::Error::New(env, "Nic is closed");
}

Napi::Value Nic::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("provider", provider_);
  o.Set("fabric", info_->fabric_attr->name ? info_->fabric_attr->name : "");
  o.Set("domain", info_->domain_attr->name ? info_->domain_attr->name : "");
  o.Set("mrMode", Napi::Number::New(env, info_->domain_attr->mr_mode));
  o.Set("mrLocal", mrLocal_);
  o.Set("virtAddr", virtAddr_);
  o.Set("provKey", provKey_);
  o.Set("atomics", atomicsNative_ ? "native" : "rpc");
  o.Set("deliveryComplete", deliveryComplete_);
  o.Set("cqDataSize", Napi::Number::New(env, static_cast<double>(cqDataSize_)));
  o.Set("injectSize", Napi::Number::New(env, static_cast<double>(info_->tx_attr->inject_size)));
  o.Set("maxMsgSize", Napi::Number::New(env, static_cast<double>(info_->ep_attr->max_msg_size)));
  o.Set("iovLimit", Napi::Number::New(env, static_cast<double>(info_->tx_attr->iov_limit)));
  o.Set("dataProgress", info_->domain_attr->data_progress == FI_PROGRESS_AUTO ? "auto" : "manual");
  o.Set("waitFd", waitFd_ >= 0 && poll_ != nullptr);
  const uint64_t mo = info_->tx_attr->msg_order;
  Napi::Object ord = Napi::Object::New(env);
  ord.Set("rar", (mo & (FI_ORDER_RAR | FI_ORDER_RMA_RAR)) != 0);
  ord.Set("raw", (mo & (FI_ORDER_RAW | FI_ORDER_RMA_RAW)) != 0);
  ord.Set("war", (mo & (FI_ORDER_WAR | FI_ORDER_RMA_WAR)) != 0);
  ord.Set("waw", (mo & (FI_ORDER_WAW | FI_ORDER_RMA_WAW)) != 0);
  ord.Set("sar", (mo & FI_ORDER_SAR) != 0);
  ord.Set("saw", (mo & FI_ORDER_SAW) != 0);
  ord.Set("sas", (mo & FI_ORDER_SAS) != 0);
  ord.Set("ras", (mo & FI_ORDER_RAS) != 0);
  ord.Set("was", (mo & FI_ORDER_WAS) != 0);
  const uint64_t allAtomic = FI_ORDER_ATOMIC_RAR | FI_ORDER_ATOMIC_RAW | FI_ORDER_ATOMIC_WAR | FI_ORDER_ATOMIC_WAW;
  ord.Set("atomic", (mo & allAtomic) == allAtomic);
  o.Set("order", ord);
  o.Set("name", Napi::Buffer<uint8_t>::Copy(env, mainName_.data(), mainName_.size()));
  char straddr[128];
  size_t sl = sizeof straddr;
  fi_av_straddr(av_, mainName_.data(), straddr, &sl);
  o.Set("address", std::string(straddr));
  return o;
}

// createEndpoint(minMultiRecv) -> endpoint id. A secondary RDM endpoint on an ephemeral address of
// the same interface, for a multi-packet shared receive queue (FI_MULTI_RECV).
Napi::Value Nic::CreateEndpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  size_t minMulti = info.Length() > 0 ? static_cast<size_t>(info[0].As<Napi::Number>().Int64Value()) : 0;
  fi_info* dup = fi_dupinfo(info_);
  if (dup->src_addr != nullptr) {
    if (dup->addr_format == FI_SOCKADDR_IN && dup->src_addrlen >= sizeof(sockaddr_in)) {
      reinterpret_cast<sockaddr_in*>(dup->src_addr)->sin_port = 0;
    } else if (dup->addr_format == FI_SOCKADDR_IN6 && dup->src_addrlen >= sizeof(sockaddr_in6)) {
      reinterpret_cast<sockaddr_in6*>(dup->src_addr)->sin6_port = 0;
    } else {
      free(dup->src_addr);
      dup->src_addr = nullptr;
      dup->src_addrlen = 0;
    }
  }
  int rc = openEndpoint(dup, minMulti, minMulti > 0);
  fi_freeinfo(dup);
  if (rc) throwFi(env, "fi_endpoint (secondary)", rc);
  return Napi::Number::New(env, static_cast<double>(eps_.size() - 1));
}

Napi::Value Nic::GetName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  Ep* e = endpoint(info[0].As<Napi::Number>().DoubleValue());
  if (!e) throw Napi::RangeError::New(env, "bad endpoint");
  char name[256];
  size_t nl = sizeof name;
  int rc = fi_getname(&e->ep->fid, name, &nl);
  if (rc) throwFi(env, "fi_getname", rc);
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(name), nl);
}

Napi::Value Nic::AvInsertService(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  std::string host = info[0].As<Napi::String>().Utf8Value();
  std::string port = info[1].IsNumber() ? std::to_string(info[1].As<Napi::Number>().Int64Value()) : info[1].As<Napi::String>().Utf8Value();
  fi_addr_t a = FI_ADDR_NOTAVAIL;
  int n = fi_av_insertsvc(av_, host.c_str(), port.c_str(), &a, 0, nullptr);
  if (n != 1) throwFi(env, ("fi_av_insertsvc " + host + ":" + port).c_str(), n < 0 ? n : -FI_EINVAL);
  return Napi::Number::New(env, static_cast<double>(a));
}

Napi::Value Nic::AvInsertName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  Napi::Uint8Array u = info[0].As<Napi::Uint8Array>();
  fi_addr_t a = lookupName(u.Data(), u.ByteLength());
  if (a == FI_ADDR_NOTAVAIL) throwFi(env, "fi_av_insert", -FI_EINVAL);
  return Napi::Number::New(env, static_cast<double>(a));
}

fi_addr_t Nic::lookupName(const uint8_t* name, size_t len) {
  std::string k(reinterpret_cast<const char*>(name), len);
  auto it = nameCache_.find(k);
  if (it != nameCache_.end()) return it->second;
  fi_addr_t a = FI_ADDR_NOTAVAIL;
  if (fi_av_insert(av_, name, 1, &a, 0, nullptr) != 1) return FI_ADDR_NOTAVAIL;
  nameCache_.emplace(k, a);
  return a;
}

// addBuffer(arrayBuffer) -> buffer id. Memory the NIC may read or write locally (sources, receive
// buffers, READ targets). Registered for local access only where the provider needs FI_MR_LOCAL.
Napi::Value Nic::AddBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  Buf b;
  b.ptr = static_cast<uint8_t*>(ab.Data());
  b.len = ab.ByteLength();
  b.ref = Napi::Persistent(ab);
  b.live = true;
  if (mrLocal_ && b.len > 0) {
    int rc = fi_mr_reg(domain_, b.ptr, b.len, FI_SEND | FI_RECV | FI_READ | FI_WRITE, 0, 0, 0, &b.localMr, nullptr);
    if (rc) throwFi(env, "fi_mr_reg (local)", rc);
    b.desc = fi_mr_desc(b.localMr);
  }
  bufs_.push_back(std::move(b));
  return Napi::Number::New(env, static_cast<double>(bufs_.size() - 1));
}

// regMr(bufId, kvlabAccess, requestedKey) -> [key, base]: base is the address peers must add to an
// offset (the buffer's virtual address under FI_MR_VIRT_ADDR, else 0).
Napi::Value Nic::RegMr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  Buf* b = buf(info[0].As<Napi::Number>().DoubleValue());
  if (!b) throw Napi::RangeError::New(env, "bad buffer id");
  int access = info[1].As<Napi::Number>().Int32Value();
  uint64_t requested = static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue());
  uint64_t fiAccess = FI_SEND | FI_RECV | FI_READ | FI_WRITE;
  if (access & (ACC_REMOTE_READ | ACC_REMOTE_ATOMIC)) fiAccess |= FI_REMOTE_READ;
  if (access & (ACC_REMOTE_WRITE | ACC_REMOTE_ATOMIC)) fiAccess |= FI_REMOTE_WRITE;
  Mr m;
  int rc = fi_mr_reg(domain_, b->ptr, b->len, fiAccess, 0, requested, 0, &m.mr, nullptr);
  if (rc) throwFi(env, "fi_mr_reg", rc);
  m.buf = static_cast<int>(info[0].As<Napi::Number>().Int32Value());
  m.ptr = b->ptr;
  m.len = b->len;
  m.key = fi_mr_key(m.mr);
  m.access = access;
  if (m.key == FI_KEY_NOTAVAIL) {
    fi_close(&m.mr->fid);
    throw Napi::Error::New(env, "fi_mr_key: key not available (raw keys are not supported)");
  }
  if (mrLocal_ && b->localMr == nullptr) b->desc = fi_mr_desc(m.mr);
  mrs_.push_back(m);
  mrByKey_[m.key] = static_cast<int>(mrs_.size() - 1);
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(0u, Napi::Number::New(env, static_cast<double>(m.key)));
  r.Set(1u, Napi::Number::New(env, virtAddr_ ? static_cast<double>(reinterpret_cast<uintptr_t>(b->ptr)) : 0.0));
  return r;
}

// deregMr(key) -> whether a registration with that key existed. fi_close on the MR: from now on
// the provider refuses remote accesses with the key.
Napi::Value Nic::DeregMr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  const uint64_t key = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue());
  auto it = mrByKey_.find(key);
  if (it == mrByKey_.end()) return Napi::Boolean::New(env, false);
  Mr& m = mrs_[it->second];
  Buf* b = buf(m.buf);
  if (mrLocal_ && b != nullptr && b->localMr == nullptr && b->desc == fi_mr_desc(m.mr)) {
    // The buffer's local descriptor came from this MR: give the buffer its own local registration.
    if (fi_mr_reg(domain_, b->ptr, b->len, FI_SEND | FI_RECV | FI_READ | FI_WRITE, 0, 0, 0, &b->localMr, nullptr) == 0) b->desc = fi_mr_desc(b->localMr);
  }
  fi_close(&m.mr->fid);
  m.mr = nullptr;
  mrByKey_.erase(it);
  return Napi::Boolean::New(env, true);
}

// setIo(args: Float64Array(ARGS_LEN), out: Float64Array(n * OUT_STRIDE))
Napi::Value Nic::SetIo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float64Array a = info[0].As<Napi::Float64Array>();
  Napi::Float64Array o = info[1].As<Napi::Float64Array>();
  if (a.ElementLength() < ARGS_LEN || o.ElementLength() < OUT_STRIDE) throw Napi::RangeError::New(env, "setIo: arrays too small");
  argsRef_ = Napi::Persistent(a);
  outRef_ = Napi::Persistent(o);
  args_ = a.Data();
  out_ = o.Data();
  outCap_ = o.ElementLength() / OUT_STRIDE;
  return env.Undefined();
}

Buf* Nic::buf(double id) {
  if (!(id >= 0) || id >= static_cast<double>(bufs_.size())) return nullptr;
  Buf* b = &bufs_[static_cast<size_t>(id)];
  return b->live ? b : nullptr;
}

Ep* Nic::endpoint(double id) {
  if (!(id >= 0) || id >= static_cast<double>(eps_.size())) return nullptr;
  return &eps_[static_cast<size_t>(id)];
}

Ctx* Nic::ctxAlloc(uint32_t opId, uint8_t kind) {
  Ctx* c;
  if (!freeCtx_.empty()) {
    c = ctxs_[freeCtx_.back()];
    freeCtx_.pop_back();
  } else {
    c = new Ctx();
    c->index = static_cast<uint32_t>(ctxs_.size());
    ctxs_.push_back(c);
  }
  memset(&c->fc, 0, sizeof c->fc);
  c->opId = opId;
  c->kind = kind;
  c->multi = false;
  c->rpc = false;
  c->reported = false;
  c->cancelled = false;
  c->refs = 0;
  c->ep = 0;
  c->base = nullptr;
  c->casDst = nullptr;
  c->parent = nullptr;
  if (kind <= K_CAS) {
    if (byOp_.size() <= opId) byOp_.resize(static_cast<size_t>(opId) * 2 + 64, nullptr);
    byOp_[opId] = c;
  }
  return c;
}

void Nic::ctxFree(Ctx* c) {
  if (c->kind <= K_CAS && c->opId < byOp_.size() && byOp_[c->opId] == c) byOp_[c->opId] = nullptr;
  c->kind = 255;
  freeCtx_.push_back(c->index);
}

bool Nic::ctxStage(Ctx* c, size_t need) {
  if (need == 0) need = 8;
  if (c->stageCap >= need) return true;
  if (c->stageMr) fi_close(&c->stageMr->fid);
  free(c->stage);
  c->stageMr = nullptr;
  c->stageDesc = nullptr;
  size_t cap = 256;
  while (cap < need) cap *= 2;
  void* p = nullptr;
  if (posix_memalign(&p, 64, cap) != 0) {
    c->stage = nullptr;
    c->stageCap = 0;
    return false;
  }
  c->stage = static_cast<uint8_t*>(p);
  c->stageCap = cap;
  if (mrLocal_) {
    if (fi_mr_reg(domain_, c->stage, cap, FI_SEND | FI_RECV | FI_READ | FI_WRITE, 0, 0, 0, &c->stageMr, nullptr) != 0) return false;
    c->stageDesc = fi_mr_desc(c->stageMr);
  }
  return true;
}

// A buffer of at least `need` zero bytes (padding for multi-packet strides). Old buffers are kept:
// an in-flight send may still point at them.
void* Nic::zerosDesc(size_t need, const void** zeros) {
  if (zerosLen_ < need) {
    size_t cap = 4096;
    while (cap < need) cap *= 2;
    uint8_t* z = static_cast<uint8_t*>(calloc(1, cap));
    fid_mr* mr = nullptr;
    if (mrLocal_) fi_mr_reg(domain_, z, cap, FI_SEND, 0, 0, 0, &mr, nullptr);
    zeros_.push_back({z, mr});
    zerosLen_ = cap;
    zerosDescCur_ = mr ? fi_mr_desc(mr) : nullptr;
  }
  *zeros = zeros_.back().first;
  return zerosDescCur_;
}

// Runs one progress step (one CQ read) while a post is refused with EAGAIN. Completions read here
// are kept, in order, for the next poll().
void Nic::progress() {
  fi_cq_data_entry e[READ_BATCH];
  ssize_t r = fi_cq_read(cq_, e, READ_BATCH);
  cqReads_++;
  if (r > 0) {
    for (ssize_t i = 0; i < r; i++) pending_.push_back({e[i], 0, 0});
  } else if (r == -FI_EAVAIL) {
    fi_cq_err_entry ee{};
    if (fi_cq_readerr(cq_, &ee, 0) > 0) {
      RawEntry re{};
      re.e.op_context = ee.op_context;
      re.e.flags = ee.flags;
      re.e.len = ee.len;
      re.e.buf = ee.buf;
      re.e.data = ee.data;
      re.err = ee.err > 0 ? ee.err : FI_EOTHER;
      re.provErrno = ee.prov_errno;
      pending_.push_back(re);
    }
  }
}

ssize_t Nic::retryAgain(const std::function<ssize_t()>& op) {
  ssize_t r = op();
  for (int i = 0; r == -FI_EAGAIN && i < EAGAIN_RETRIES; i++) {
    progress();
    r = op();
  }
  if (r == -FI_EAGAIN) eagain_++;
  return r;
}

// postSend([inlineBytes]) ; args: ep, dest, tag (-1 = untagged), buf, off, len, padTo, dataHi, dataLo, opId
Napi::Value Nic::PostSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  const double* a = args_;
  Ep* e = endpoint(a[0]);
  if (!e) throw Napi::RangeError::New(env, "postSend: bad endpoint");
  const fi_addr_t dest = static_cast<fi_addr_t>(a[1]);
  const double tagd = a[2];
  const bool inl = info.Length() > 0 && info[0].IsTypedArray();
  size_t len = static_cast<size_t>(a[5]);
  const size_t total = a[6] > a[5] ? static_cast<size_t>(a[6]) : len;
  const uint64_t hi = static_cast<uint64_t>(a[7]), lo = static_cast<uint64_t>(a[8]);
  const uint64_t data = cqDataSize_ >= 8 ? (hi << 32) | (lo & 0xffffffffull) : (hi & 0xffffffffull);
  Ctx* c = ctxAlloc(static_cast<uint32_t>(a[9]), K_SEND);
  iovec iov[2];
  void* desc[2] = {nullptr, nullptr};
  size_t n = 1;
  if (inl) {
    Napi::Uint8Array u = info[0].As<Napi::Uint8Array>();
    len = u.ByteLength();
    const size_t t = total > len ? total : len;
    if (!ctxStage(c, t)) {
      ctxFree(c);
      return Napi::Number::New(env, -FI_ENOMEM);
    }
    memcpy(c->stage, u.Data(), len);
    if (t > len) memset(c->stage + len, 0, t - len);
    iov[0] = {c->stage, t};
    desc[0] = c->stageDesc;
  } else {
    Buf* b = buf(a[3]);
    const size_t off = static_cast<size_t>(a[4]);
    if (!b || off + len > b->len) {
      ctxFree(c);
      throw Napi::RangeError::New(env, "postSend: source outside its buffer");
    }
    iov[0] = {b->ptr + off, len};
    desc[0] = b->desc;
    if (total > len) {
      const void* z = nullptr;
      desc[1] = zerosDesc(total - len, &z);
      iov[1] = {const_cast<void*>(z), total - len};
      n = 2;
    }
  }
  const uint64_t flags = FI_COMPLETION | (deliveryComplete_ ? FI_DELIVERY_COMPLETE : 0) | (cqDataSize_ > 0 ? FI_REMOTE_CQ_DATA : 0);
  ssize_t r;
  if (tagd >= 0) {
    fi_msg_tagged m{};
    m.msg_iov = iov;
    m.desc = desc;
    m.iov_count = n;
    m.addr = dest;
    m.tag = static_cast<uint64_t>(tagd);
    m.context = c;
    m.data = data;
    r = retryAgain([&] { return fi_tsendmsg(e->ep, &m, flags); });
  } else {
    fi_msg m{};
    m.msg_iov = iov;
    m.desc = desc;
    m.iov_count = n;
    m.addr = dest;
    m.context = c;
    m.data = data;
    r = retryAgain([&] { return fi_sendmsg(e->ep, &m, flags); });
  }
  if (r != 0) ctxFree(c);
  else posts_++;
  return Napi::Number::New(env, static_cast<double>(r));
}

// postRecv() ; args: ep, tag (-1 = untagged), buf, off, len, multi, opId
Napi::Value Nic::PostRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  const double* a = args_;
  Ep* e = endpoint(a[0]);
  Buf* b = buf(a[2]);
  const size_t off = static_cast<size_t>(a[3]), len = static_cast<size_t>(a[4]);
  if (!e || !b || off + len > b->len) throw Napi::RangeError::New(env, "postRecv: bad endpoint or buffer range");
  const bool multi = a[5] != 0;
  Ctx* c = ctxAlloc(static_cast<uint32_t>(a[6]), K_RECV);
  c->multi = multi;
  c->base = reinterpret_cast<char*>(b->ptr + off);
  c->ep = static_cast<int>(a[0]);
  iovec iov{b->ptr + off, len};
  void* desc = b->desc;
  ssize_t r;
  if (a[1] >= 0) {
    fi_msg_tagged m{};
    m.msg_iov = &iov;
    m.desc = &desc;
    m.iov_count = 1;
    m.addr = FI_ADDR_UNSPEC;
    m.tag = static_cast<uint64_t>(a[1]);
    m.ignore = 0;
    m.context = c;
    r = retryAgain([&] { return fi_trecvmsg(e->ep, &m, FI_COMPLETION); });
  } else {
    fi_msg m{};
    m.msg_iov = &iov;
    m.desc = &desc;
    m.iov_count = 1;
    m.addr = FI_ADDR_UNSPEC;
    m.context = c;
    r = retryAgain([&] { return fi_recvmsg(e->ep, &m, FI_COMPLETION | (multi ? FI_MULTI_RECV : 0)); });
  }
  if (r != 0) ctxFree(c);
  else posts_++;
  return Napi::Number::New(env, static_cast<double>(r));
}

// postWrite([inlineBytes]) ; args: ep, dest, buf, off, len, raddr, key, opId
Napi::Value Nic::PostWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  const double* a = args_;
  Ep* e = endpoint(a[0]);
  if (!e) throw Napi::RangeError::New(env, "postWrite: bad endpoint");
  Ctx* c = ctxAlloc(static_cast<uint32_t>(a[7]), K_WRITE);
  iovec iov;
  void* desc = nullptr;
  size_t len = static_cast<size_t>(a[4]);
  if (info.Length() > 0 && info[0].IsTypedArray()) {
    Napi::Uint8Array u = info[0].As<Napi::Uint8Array>();
    len = u.ByteLength();
    if (!ctxStage(c, len)) {
      ctxFree(c);
      return Napi::Number::New(env, -FI_ENOMEM);
    }
    memcpy(c->stage, u.Data(), len);
    iov = {c->stage, len};
    desc = c->stageDesc;
  } else {
    Buf* b = buf(a[2]);
    const size_t off = static_cast<size_t>(a[3]);
    if (!b || off + len > b->len) {
      ctxFree(c);
      throw Napi::RangeError::New(env, "postWrite: source outside its buffer");
    }
    iov = {b->ptr + off, len};
    desc = b->desc;
  }
  fi_rma_iov riov{static_cast<uint64_t>(a[5]), len, static_cast<uint64_t>(a[6])};
  fi_msg_rma m{};
  m.msg_iov = &iov;
  m.desc = &desc;
  m.iov_count = 1;
  m.addr = static_cast<fi_addr_t>(a[1]);
  m.rma_iov = &riov;
  m.rma_iov_count = 1;
  m.context = c;
  const uint64_t flags = FI_COMPLETION | (deliveryComplete_ ? FI_DELIVERY_COMPLETE : 0);
  ssize_t r = retryAgain([&] { return fi_writemsg(e->ep, &m, flags); });
  if (r != 0) ctxFree(c);
  else posts_++;
  return Napi::Number::New(env, static_cast<double>(r));
}

// postRead() ; args: ep, dest, buf, off, len, raddr, key, opId
Napi::Value Nic::PostRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  const double* a = args_;
  Ep* e = endpoint(a[0]);
  Buf* b = buf(a[2]);
  const size_t off = static_cast<size_t>(a[3]), len = static_cast<size_t>(a[4]);
  if (!e || !b || off + len > b->len) throw Napi::RangeError::New(env, "postRead: bad endpoint or destination range");
  Ctx* c = ctxAlloc(static_cast<uint32_t>(a[7]), K_READ);
  iovec iov{b->ptr + off, len};
  void* desc = b->desc;
  fi_rma_iov riov{static_cast<uint64_t>(a[5]), len, static_cast<uint64_t>(a[6])};
  fi_msg_rma m{};
  m.msg_iov = &iov;
  m.desc = &desc;
  m.iov_count = 1;
  m.addr = static_cast<fi_addr_t>(a[1]);
  m.rma_iov = &riov;
  m.rma_iov_count = 1;
  m.context = c;
  ssize_t r = retryAgain([&] { return fi_readmsg(e->ep, &m, FI_COMPLETION); });
  if (r != 0) ctxFree(c);
  else posts_++;
  return Napi::Number::New(env, static_cast<double>(r));
}

// postCas() ; args: ep, dest, raddr, key, expected, desired, dstBuf (-1 = none), dstOff, opId
// Native fi_compare_atomic when the provider has FI_ATOMIC; otherwise (or with atomics: 'rpc') an
// emulation: a tagged request to the target's main endpoint, executed by the target's addon
// during its CQ progress, answered with a tagged reply.
Napi::Value Nic::PostCas(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  checkOpen(env);
  const double* a = args_;
  Ep* e = endpoint(a[0]);
  if (!e) throw Napi::RangeError::New(env, "postCas: bad endpoint");
  const fi_addr_t dest = static_cast<fi_addr_t>(a[1]);
  const uint64_t raddr = static_cast<uint64_t>(a[2]), key = static_cast<uint64_t>(a[3]);
  const uint64_t expected = static_cast<uint64_t>(a[4]), desired = static_cast<uint64_t>(a[5]);
  uint8_t* dst = nullptr;
  if (a[6] >= 0) {
    Buf* b = buf(a[6]);
    const size_t off = static_cast<size_t>(a[7]);
    if (!b || off + 8 > b->len) throw Napi::RangeError::New(env, "postCas: destination outside its buffer");
    dst = b->ptr + off;
  }
  Ctx* c = ctxAlloc(static_cast<uint32_t>(a[8]), K_CAS);
  c->casDst = dst;
  if (!ctxStage(c, 256)) {
    ctxFree(c);
    return Napi::Number::New(env, -FI_ENOMEM);
  }
  uint64_t* s = reinterpret_cast<uint64_t*>(c->stage);
  ssize_t r;
  if (atomicsNative_) {
    s[0] = expected;
    s[1] = desired;
    s[2] = 0;
    r = retryAgain([&] {
      return fi_compare_atomic(e->ep, &s[1], 1, c->stageDesc, &s[0], c->stageDesc, &s[2], c->stageDesc, dest, raddr, key, FI_UINT64, FI_CSWAP, c);
    });
    if (r != 0) ctxFree(c);
    else posts_++;
    return Napi::Number::New(env, static_cast<double>(r));
  }
  // Emulated: post the reply receive first, then send the request.
  c->rpc = true;
  c->ep = static_cast<int>(a[0]);
  const uint64_t replyTag = TAG_RPC_REP | c->index;
  fi_msg_tagged rm{};
  iovec riov{c->stage + RPC_REP_OFFSET, 16};
  void* rdesc = c->stageDesc;
  rm.msg_iov = &riov;
  rm.desc = &rdesc;
  rm.iov_count = 1;
  rm.addr = FI_ADDR_UNSPEC;
  rm.tag = replyTag;
  rm.context = c;
  r = retryAgain([&] { return fi_trecvmsg(eps_[0].ep, &rm, FI_COMPLETION); });
  if (r != 0) {
    ctxFree(c);
    return Napi::Number::New(env, static_cast<double>(r));
  }
  c->refs = 1;
  Ctx* sc = ctxAlloc(0, K_RPC_REQ_SEND);
  sc->parent = c;
  if (!ctxStage(sc, RPC_REQ_BYTES + mainName_.size())) {
    ctxFree(sc);
    c->reported = true;
    fi_cancel(&eps_[0].ep->fid, c);
    return Napi::Number::New(env, -FI_ENOMEM);
  }
  uint64_t* q = reinterpret_cast<uint64_t*>(sc->stage);
  q[0] = RPC_MAGIC;
  q[1] = replyTag;
  q[2] = key;
  q[3] = raddr;
  q[4] = expected;
  q[5] = desired;
  q[6] = mainName_.size();
  memcpy(sc->stage + RPC_REQ_BYTES, mainName_.data(), mainName_.size());
  const size_t qlen = RPC_REQ_BYTES + mainName_.size();
  r = retryAgain([&] { return fi_tsend(e->ep, sc->stage, qlen, sc->stageDesc, dest, TAG_RPC_REQ, sc); });
  if (r != 0) {
    ctxFree(sc);
    c->reported = true;  // the caller gets the error now; the cancelled receive is freed silently
    fi_cancel(&eps_[0].ep->fid, c);
    return Napi::Number::New(env, static_cast<double>(r));
  }
  c->refs = 2;
  posts_++;
  return Napi::Number::New(env, 0);
}

int Nic::postRpcServerRecv(Ctx* c) {
  fi_msg_tagged m{};
  iovec iov{c->stage, c->stageCap};
  void* desc = c->stageDesc;
  m.msg_iov = &iov;
  m.desc = &desc;
  m.iov_count = 1;
  m.addr = FI_ADDR_UNSPEC;
  m.tag = TAG_RPC_REQ;
  m.context = c;
  return static_cast<int>(retryAgain([&] { return fi_trecvmsg(eps_[0].ep, &m, FI_COMPLETION); }));
}

// The target side of an emulated CAS: validate against the local registration, execute with a CPU
// atomic, reply.
void Nic::serveCas(Ctx* c, size_t len) {
  if (len < RPC_REQ_BYTES) return;
  const uint64_t* q = reinterpret_cast<const uint64_t*>(c->stage);
  if (q[0] != RPC_MAGIC || q[6] > len - RPC_REQ_BYTES) return;
  uint64_t status = FI_EACCES, old = 0;
  auto it = mrByKey_.find(q[2]);
  if (it != mrByKey_.end()) {
    const Mr& m = mrs_[it->second];
    const uint64_t base = virtAddr_ ? reinterpret_cast<uintptr_t>(m.ptr) : 0;
    const uint64_t addr = q[3];
    if ((m.access & ACC_REMOTE_ATOMIC) && addr >= base && addr - base + 8 <= m.len && ((addr - base) & 7) == 0) {
      uint64_t* w = reinterpret_cast<uint64_t*>(m.ptr + (addr - base));
      uint64_t exp = q[4];
      __atomic_compare_exchange_n(w, &exp, q[5], false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
      old = exp;
      status = 0;
    }
  }
  const fi_addr_t dest = lookupName(c->stage + RPC_REQ_BYTES, static_cast<size_t>(q[6]));
  const uint64_t tag = q[1];
  rpcServed_++;
  if (dest == FI_ADDR_NOTAVAIL) return;
  Ctx* rep = ctxAlloc(0, K_RPC_REP_SEND);
  if (!ctxStage(rep, 16)) {
    ctxFree(rep);
    return;
  }
  uint64_t* p = reinterpret_cast<uint64_t*>(rep->stage);
  p[0] = status;
  p[1] = old;
  sendReply(rep, dest, tag);
}

void Nic::sendReply(Ctx* rep, fi_addr_t dest, uint64_t tag) {
  ssize_t r = fi_tsend(eps_[0].ep, rep->stage, 16, rep->stageDesc, dest, tag, rep);
  if (r == -FI_EAGAIN) replyRetry_.push_back({rep, dest, tag});
  else if (r != 0) ctxFree(rep);
}

void Nic::retryReplies() {
  if (replyRetry_.empty()) return;
  std::vector<PendingReply> q;
  q.swap(replyRetry_);
  for (auto& p : q) sendReply(p.ctx, p.dest, p.tag);
}

void Nic::emit(double* out, uint32_t opId, int err, int flags, double len, double bufOff, uint64_t data, double value) {
  out[0] = opId;
  out[1] = err;
  out[2] = flags;
  out[3] = len;
  out[4] = bufOff;
  if (cqDataSize_ >= 8) {
    out[5] = static_cast<double>(data >> 32);
    out[6] = static_cast<double>(data & 0xffffffffull);
  } else {
    out[5] = static_cast<double>(data & 0xffffffffull);
    out[6] = -1;
  }
  out[7] = value;
}

// Turns one raw CQ entry into at most one JS-visible entry (returns 1 if it wrote one).
// Entry flags: 1 = multi-recv buffer released, 2 = remote CQ data present.
int Nic::handle(const RawEntry& r, double* out) {
  Ctx* c = static_cast<Ctx*>(r.e.op_context);
  if (c == nullptr) return 0;
  switch (c->kind) {
    case K_SEND:
    case K_WRITE:
    case K_READ:
      emit(out, c->opId, r.err, 0, static_cast<double>(r.e.len), 0, 0, 0);
      ctxFree(c);
      return 1;
    case K_CAS: {
      if (!c->rpc) {
        const uint64_t old = reinterpret_cast<uint64_t*>(c->stage)[2];
        if (r.err == 0 && c->casDst) memcpy(c->casDst, &old, 8);
        emit(out, c->opId, r.err, 0, 8, 0, 0, static_cast<double>(old));
        ctxFree(c);
        return 1;
      }
      int wrote = 0;
      if (!c->reported) {
        c->reported = true;
        if (r.err != 0) {
          emit(out, c->opId, r.err, 0, 0, 0, 0, 0);
        } else {
          const uint64_t* p = reinterpret_cast<const uint64_t*>(c->stage + RPC_REP_OFFSET);
          const int st = static_cast<int>(p[0]);
          if (st == 0 && c->casDst) memcpy(c->casDst, &p[1], 8);
          emit(out, c->opId, st, 0, 8, 0, 0, static_cast<double>(p[1]));
        }
        wrote = 1;
      }
      if (--c->refs <= 0) ctxFree(c);
      return wrote;
    }
    case K_RPC_REQ_SEND: {
      Ctx* p = c->parent;
      ctxFree(c);
      int wrote = 0;
      if (r.err != 0 && !p->reported) {
        p->reported = true;
        emit(out, p->opId, r.err, 0, 0, 0, 0, 0);
        wrote = 1;
        fi_cancel(&eps_[0].ep->fid, p);
      }
      if (--p->refs <= 0) ctxFree(p);
      return wrote;
    }
    case K_RPC_SRV_RECV:
      if (r.err == 0) {
        serveCas(c, r.e.len);
        if (postRpcServerRecv(c) != 0) ctxFree(c);
      } else if (r.err != FI_ECANCELED) {
        if (postRpcServerRecv(c) != 0) ctxFree(c);
      } else {
        ctxFree(c);
      }
      return 0;
    case K_RPC_REP_SEND:
      ctxFree(c);
      return 0;
    case K_RECV: {
      const bool released = !c->multi || (r.e.flags & FI_MULTI_RECV) != 0 || r.err == FI_ECANCELED;
      const bool hasData = (r.e.flags & FI_REMOTE_CQ_DATA) != 0;
      const double off = r.e.buf != nullptr && c->base != nullptr ? static_cast<double>(static_cast<char*>(r.e.buf) - c->base) : 0;
      emit(out, c->opId, r.err, (released ? 1 : 0) | (hasData ? 2 : 0), static_cast<double>(r.e.len), off, hasData ? r.e.data : 0, 0);
      if (released) ctxFree(c);
      return 1;
    }
    default:
      return 0;
  }
}

// poll(max) -> number of entries written to the out array (at most min(max, capacity)).
Napi::Value Nic::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_ || out_ == nullptr) return Napi::Number::New(env, 0);
  size_t max = outCap_;
  if (info.Length() > 0 && info[0].IsNumber()) {
    const double m = info[0].As<Napi::Number>().DoubleValue();
    if (m >= 1 && m < static_cast<double>(max)) max = static_cast<size_t>(m);
  }
  polls_++;
  size_t n = 0;
  while (n < max && !pending_.empty()) {
    RawEntry r = pending_.front();
    pending_.pop_front();
    n += static_cast<size_t>(handle(r, out_ + n * OUT_STRIDE));
  }
  fi_cq_data_entry e[READ_BATCH];
  while (n < max) {
    size_t want = max - n < READ_BATCH ? max - n : READ_BATCH;
    ssize_t r = fi_cq_read(cq_, e, want);
    cqReads_++;
    if (r > 0) {
      for (ssize_t i = 0; i < r; i++) n += static_cast<size_t>(handle({e[i], 0, 0}, out_ + n * OUT_STRIDE));
      if (static_cast<size_t>(r) < want) break;
    } else if (r == -FI_EAVAIL) {
      fi_cq_err_entry ee{};
      if (fi_cq_readerr(cq_, &ee, 0) <= 0) break;
      RawEntry re{};
      re.e.op_context = ee.op_context;
      re.e.flags = ee.flags;
      re.e.len = ee.len;
      re.e.buf = ee.buf;
      re.e.data = ee.data;
      re.err = ee.err > 0 ? ee.err : FI_EOTHER;
      re.provErrno = ee.prov_errno;
      n += static_cast<size_t>(handle(re, out_ + n * OUT_STRIDE));
    } else {
      break;
    }
  }
  retryReplies();
  return Napi::Number::New(env, static_cast<double>(n));
}

// tryWait() -> true if it is safe to sleep until the wait fd is readable (fi_trywait).
Napi::Value Nic::TryWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_ || poll_ == nullptr || !pending_.empty() || !replyRetry_.empty()) return Napi::Boolean::New(env, false);
  fid* f = &cq_->fid;
  return Napi::Boolean::New(env, fi_trywait(fabric_, &f, 1) == FI_SUCCESS);
}

// onReadable(fn): fn() is called on the event loop when the CQ's wait fd becomes readable.
Napi::Value Nic::OnReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info[0].IsFunction()) onReadable_ = Napi::Persistent(info[0].As<Napi::Function>());
  else onReadable_.Reset();
  return env.Undefined();
}

// cancel(opId): cancels a posted receive (QP or SRQ torn down); it completes with FI_ECANCELED.
Napi::Value Nic::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) return Napi::Number::New(env, 0);
  const uint32_t opId = static_cast<uint32_t>(info[0].As<Napi::Number>().Uint32Value());
  if (opId >= byOp_.size() || byOp_[opId] == nullptr) return Napi::Number::New(env, -FI_ENOENT);
  Ctx* c = byOp_[opId];
  if (c->kind != K_RECV || c->cancelled) return Napi::Number::New(env, -FI_EINVAL);
  c->cancelled = true;
  return Napi::Number::New(env, static_cast<double>(fi_cancel(&eps_[c->ep].ep->fid, c)));
}

void Nic::Readable() {
  wakeups_++;
  if (closed_) return;
  if (onReadable_.IsEmpty()) {
    progress();  // nobody listens: keep the provider progressing (completions wait in pending_)
    return;
  }
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  try {
    onReadable_.MakeCallback(env.Global(), {});
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

Napi::Value Nic::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("posts", Napi::Number::New(env, static_cast<double>(posts_)));
  o.Set("polls", Napi::Number::New(env, static_cast<double>(polls_)));
  o.Set("cqReads", Napi::Number::New(env, static_cast<double>(cqReads_)));
  o.Set("eagain", Napi::Number::New(env, static_cast<double>(eagain_)));
  o.Set("rpcServed", Napi::Number::New(env, static_cast<double>(rpcServed_)));
  o.Set("wakeups", Napi::Number::New(env, static_cast<double>(wakeups_)));
  o.Set("contexts", Napi::Number::New(env, static_cast<double>(ctxs_.size())));
  o.Set("freeContexts", Napi::Number::New(env, static_cast<double>(freeCtx_.size())));
  return o;
}

Napi::Value Nic::Close(const Napi::CallbackInfo& info) {
  closeAll();
  return info.Env().Undefined();
}

void Nic::closeAll() {
  if (closed_ && info_ == nullptr) return;
  closed_ = true;
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  onReadable_.Reset();
  for (auto& e : eps_)
    if (e.ep) fi_close(&e.ep->fid);
  eps_.clear();
  for (auto& m : mrs_)
    if (m.mr) fi_close(&m.mr->fid);
  mrs_.clear();
  mrByKey_.clear();
  for (auto& b : bufs_) {
    if (b.localMr) fi_close(&b.localMr->fid);
    b.ref.Reset();
    b.live = false;
  }
  bufs_.clear();
  for (Ctx* c : ctxs_) {
    if (c->stageMr) fi_close(&c->stageMr->fid);
    free(c->stage);
    delete c;
  }
  ctxs_.clear();
  freeCtx_.clear();
  byOp_.clear();
  pending_.clear();
  replyRetry_.clear();
  for (auto& z : zeros_) {
    if (z.second) fi_close(&z.second->fid);
    free(z.first);
  }
  zeros_.clear();
  zerosLen_ = 0;
  if (cq_) fi_close(&cq_->fid);
  if (av_) fi_close(&av_->fid);
  if (domain_) fi_close(&domain_->fid);
  if (fabric_) fi_close(&fabric_->fid);
  cq_ = nullptr;
  av_ = nullptr;
  domain_ = nullptr;
  fabric_ = nullptr;
  if (info_) fi_freeinfo(info_);
  info_ = nullptr;
  args_ = nullptr;
  out_ = nullptr;
  argsRef_.Reset();
  outRef_.Reset();
}

namespace {

void onPoll(uv_poll_t* h, int status, int events) {
  (void)status;
  (void)events;
  Nic* n = static_cast<Nic*>(h->data);
  n->Readable();
}

}  // namespace

}  // namespace kvlab
