// kvlab native addon: one Nic = one libfabric fabric + domain + address vector + completion queue
// and its RDM endpoints. See docs/platform.md for how kvlab's RC/UD model maps onto it.
#pragma once

#include <napi.h>
#include <uv.h>

#include <rdma/fabric.h>
#include <rdma/fi_atomic.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <rdma/fi_tagged.h>

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace kvlab {

// Completion-entry layout shared with native/addon.ts (OUT_* there).
constexpr int OUT_STRIDE = 8;
// Post-argument block size shared with native/addon.ts.
constexpr int ARGS_LEN = 16;

// Tag space: user tags are < 2^48 (kinds 1..13 in bits 44..47); the addon reserves kinds 14, 15.
constexpr uint64_t TAG_KIND_SHIFT = 44;
constexpr uint64_t TAG_RPC_REQ = 14ull << TAG_KIND_SHIFT;
constexpr uint64_t TAG_RPC_REP = 15ull << TAG_KIND_SHIFT;

enum CtxKind : uint8_t {
  K_SEND = 0,
  K_RECV = 1,
  K_WRITE = 2,
  K_READ = 3,
  K_CAS = 4,            // native fi_compare_atomic, or the reply receive of an emulated CAS
  K_RPC_REQ_SEND = 5,   // the request message of an emulated CAS (internal)
  K_RPC_SRV_RECV = 6,   // a posted receive for CAS requests from peers (internal)
  K_RPC_REP_SEND = 7,   // the reply to an emulated CAS request (internal)
};

struct Ctx {
  fi_context2 fc;  // must stay first: libfabric hands it back as op_context
  uint32_t index = 0;
  uint32_t opId = 0;
  uint8_t kind = 0;
  bool multi = false;
  bool rpc = false;
  bool reported = false;   // emulated CAS: the JS-visible completion has been produced
  bool cancelled = false;
  int refs = 0;            // emulated CAS: outstanding internal operations
  int ep = 0;
  char* base = nullptr;    // receive buffer start (multi-recv offsets)
  uint8_t* casDst = nullptr;
  Ctx* parent = nullptr;   // emulated CAS: the request send points to the CAS context
  uint8_t* stage = nullptr;
  size_t stageCap = 0;
  fid_mr* stageMr = nullptr;
  void* stageDesc = nullptr;
};

struct RawEntry {
  fi_cq_data_entry e;
  int err;  // 0, or a positive fi errno
  int provErrno;
};

struct Buf {
  Napi::Reference<Napi::ArrayBuffer> ref;
  uint8_t* ptr = nullptr;
  size_t len = 0;
  fid_mr* localMr = nullptr;
  void* desc = nullptr;
  bool live = false;
};

struct Mr {
  fid_mr* mr = nullptr;
  int buf = -1;
  uint8_t* ptr = nullptr;
  size_t len = 0;
  uint64_t key = 0;
  int access = 0;  // kvlab Access bits
};

struct Ep {
  fid_ep* ep = nullptr;
  bool multi = false;
};

struct PendingReply {
  Ctx* ctx;
  fi_addr_t dest;
  uint64_t tag;
};

class Nic : public Napi::ObjectWrap<Nic> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Nic(const Napi::CallbackInfo& info);
  ~Nic() override;
  /** The CQ's wait fd became readable (called from the uv_poll callback). */
  void Readable();

 private:
  // ---- JS methods ----
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value CreateEndpoint(const Napi::CallbackInfo& info);
  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value AvInsertService(const Napi::CallbackInfo& info);
  Napi::Value AvInsertName(const Napi::CallbackInfo& info);
  Napi::Value AddBuffer(const Napi::CallbackInfo& info);
  Napi::Value RegMr(const Napi::CallbackInfo& info);
  Napi::Value DeregMr(const Napi::CallbackInfo& info);
  Napi::Value SetIo(const Napi::CallbackInfo& info);
  Napi::Value PostSend(const Napi::CallbackInfo& info);
  Napi::Value PostRecv(const Napi::CallbackInfo& info);
  Napi::Value PostWrite(const Napi::CallbackInfo& info);
  Napi::Value PostRead(const Napi::CallbackInfo& info);
  Napi::Value PostCas(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value TryWait(const Napi::CallbackInfo& info);
  Napi::Value OnReadable(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // ---- internals ----
  void open(Napi::Env env, const std::string& prov, const std::string& host, const std::string& port, const std::string& atomics,
            const std::string& completion);
  int openEndpoint(fi_info* info, size_t minMultiRecv, bool multi);
  Ctx* ctxAlloc(uint32_t opId, uint8_t kind);
  void ctxFree(Ctx* c);
  bool ctxStage(Ctx* c, size_t need);
  void* zerosDesc(size_t need, const void** zeros);
  void progress();
  int handle(const RawEntry& r, double* out);
  void emit(double* out, uint32_t opId, int err, int flags, double len, double bufOff, uint64_t data, double value);
  void serveCas(Ctx* c, size_t len);
  void sendReply(Ctx* rep, fi_addr_t dest, uint64_t tag);
  void retryReplies();
  int postRpcServerRecv(Ctx* c);
  fi_addr_t lookupName(const uint8_t* name, size_t len);
  Buf* buf(double id);
  Ep* endpoint(double id);
  void closeAll();
  void checkOpen(Napi::Env env);
  ssize_t retryAgain(const std::function<ssize_t()>& op);

  bool closed_ = true;
  fi_info* info_ = nullptr;
  fid_fabric* fabric_ = nullptr;
  fid_domain* domain_ = nullptr;
  fid_av* av_ = nullptr;
  fid_cq* cq_ = nullptr;
  int waitFd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference onReadable_;
  napi_env env_ = nullptr;

  std::string provider_;
  bool atomicsNative_ = false;
  bool deliveryComplete_ = false;
  bool mrLocal_ = false;
  bool virtAddr_ = false;
  bool provKey_ = false;
  size_t cqDataSize_ = 0;

  std::vector<Ep> eps_;
  std::vector<Buf> bufs_;
  std::vector<Mr> mrs_;
  std::unordered_map<uint64_t, int> mrByKey_;
  std::vector<Ctx*> ctxs_;
  std::vector<uint32_t> freeCtx_;
  std::vector<Ctx*> byOp_;
  std::deque<RawEntry> pending_;
  std::vector<PendingReply> replyRetry_;
  std::unordered_map<std::string, fi_addr_t> nameCache_;
  std::vector<uint8_t> mainName_;
  std::vector<std::pair<uint8_t*, fid_mr*>> zeros_;
  size_t zerosLen_ = 0;
  void* zerosDescCur_ = nullptr;

  double* args_ = nullptr;
  double* out_ = nullptr;
  size_t outCap_ = 0;
  Napi::Reference<Napi::Float64Array> argsRef_;
  Napi::Reference<Napi::Float64Array> outRef_;

  // counters
  uint64_t posts_ = 0, polls_ = 0, cqReads_ = 0, eagain_ = 0, rpcServed_ = 0, wakeups_ = 0;
};

}  // namespace kvlab
