/*
 * kvlab native bench baseline: RMA WRITE round trips in plain C on libfabric RDM endpoints (the
 * same provider, endpoint type, completion level and address as the addon uses).
 *
 *   rma_pingpong server <provider> <host> <port>         registers 4 MiB (key 0x4b56), prints
 *                                                        "READY <key> <base>", polls its CQ until killed
 *   rma_pingpong client <provider> <host> <port> <size> <iterations> <key> <base> <delivery|flush>
 *                                                        prints {"usecPerWrite":...}
 * delivery: the WRITE is posted with FI_DELIVERY_COMPLETE and its completion awaited; flush: the
 * WRITE is posted with the default completion level, followed by an 8-byte READ of the target
 * (ordered after it, FI_ORDER_RAW) whose completion confirms placement — what the adapter does on
 * tcp;ofi_rxm. Both mean "the data is at the target" when the loop goes on.
 */
#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY 0x4b56
#define REGION (4u << 20)

static struct fi_info *info;
static struct fid_fabric *fab;
static struct fid_domain *dom;
static struct fid_av *av;
static struct fid_cq *cq;
static struct fid_ep *ep;
static int dc;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "%s: %s (%d)\n", what, fi_strerror(rc < 0 ? -rc : rc), rc);
  exit(1);
}

static void open_ep(const char *prov, const char *host, const char *port, int want_dc) {
  for (int withDc = want_dc; withDc >= 0; withDc--) {
    struct fi_info *h = fi_allocinfo();
    h->ep_attr->type = FI_EP_RDM;
    h->caps = FI_MSG | FI_TAGGED | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE | FI_SEND | FI_RECV | FI_MULTI_RECV | FI_ATOMIC;
    h->mode = FI_CONTEXT | FI_CONTEXT2;
    h->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY;
    h->domain_attr->threading = FI_THREAD_DOMAIN;
    if (withDc) h->tx_attr->op_flags = FI_DELIVERY_COMPLETE;
    h->fabric_attr->prov_name = strdup(prov);
    int rc = fi_getinfo(FI_VERSION(1, 9), host, port, port ? FI_SOURCE : 0, h, &info);
    fi_freeinfo(h);
    if (rc == 0) {
      dc = withDc;
      break;
    }
    if (!withDc) die("fi_getinfo", rc);
  }
  int rc;
  if ((rc = fi_fabric(info->fabric_attr, &fab, NULL))) die("fi_fabric", rc);
  if ((rc = fi_domain(fab, info, &dom, NULL))) die("fi_domain", rc);
  struct fi_av_attr aa = {.type = FI_AV_TABLE};
  if ((rc = fi_av_open(dom, &aa, &av, NULL))) die("fi_av_open", rc);
  struct fi_cq_attr ca = {.format = FI_CQ_FORMAT_DATA, .size = 1024};
  if ((rc = fi_cq_open(dom, &ca, &cq, NULL))) die("fi_cq_open", rc);
  if ((rc = fi_endpoint(dom, info, &ep, NULL))) die("fi_endpoint", rc);
  fi_ep_bind(ep, &av->fid, 0);
  fi_ep_bind(ep, &cq->fid, FI_TRANSMIT | FI_RECV);
  if ((rc = fi_enable(ep))) die("fi_enable", rc);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: rma_pingpong server|client provider host port [size iterations]\n");
    return 2;
  }
  int server = strcmp(argv[1], "server") == 0;
  char *region = aligned_alloc(4096, REGION);
  memset(region, 0, REGION);
  struct fid_mr *mr;
  struct fi_cq_data_entry e[16];
  if (server) {
    open_ep(argv[2], argv[3], argv[4], 1);
    int rc = fi_mr_reg(dom, region, REGION, FI_REMOTE_READ | FI_REMOTE_WRITE | FI_READ | FI_WRITE, 0, KEY, 0, &mr, NULL);
    if (rc) die("fi_mr_reg", rc);
    uint64_t base = (info->domain_attr->mr_mode & FI_MR_VIRT_ADDR) ? (uint64_t)(uintptr_t)region : 0;
    printf("READY %llu %llu\n", (unsigned long long)fi_mr_key(mr), (unsigned long long)base);
    fflush(stdout);
    for (;;) fi_cq_read(cq, e, 16); /* progress (manual-progress providers) until killed */
  }
  if (argc < 10) {
    fprintf(stderr, "client: rma_pingpong client provider host port size iterations key base delivery|flush\n");
    return 2;
  }
  int flush = strcmp(argv[9], "flush") == 0;
  size_t size = (size_t)atol(argv[5]);
  long iters = atol(argv[6]);
  uint64_t key = strtoull(argv[7], NULL, 10), base = strtoull(argv[8], NULL, 10);
  open_ep(argv[2], argv[3], "0", !flush);
  int rc = fi_mr_reg(dom, region, REGION, FI_READ | FI_WRITE, 0, 0, 0, &mr, NULL);
  if (rc) die("fi_mr_reg", rc);
  void *desc = fi_mr_desc(mr);
  fi_addr_t peer;
  if (fi_av_insertsvc(av, argv[3], argv[4], &peer, 0, NULL) != 1) die("fi_av_insertsvc", -FI_EINVAL);
  struct fi_context2 ctx, rctx;
  struct iovec iov = {region, size};
  struct iovec rdiov = {region + (REGION - 64), 8};
  struct fi_rma_iov rdriov = {base, 8, key};
  struct fi_msg_rma rm = {.msg_iov = &rdiov, .desc = &desc, .iov_count = 1, .addr = peer, .rma_iov = &rdriov, .rma_iov_count = 1, .context = &rctx};
  struct fi_rma_iov riov = {base, size, key};
  struct fi_msg_rma m = {.msg_iov = &iov, .desc = &desc, .iov_count = 1, .addr = peer, .rma_iov = &riov, .rma_iov_count = 1, .context = &ctx};
  uint64_t flags = FI_COMPLETION | (dc ? FI_DELIVERY_COMPLETE : 0);
  double t0 = 0;
  long warm = iters / 10 + 10;
  for (long i = -warm; i < iters; i++) {
    if (i == 0) t0 = now_ns();
    ssize_t r;
    double deadline = now_ns() + 5e9; /* never spin forever on a peer that is gone */
    while ((r = fi_writemsg(ep, &m, flags)) == -FI_EAGAIN) {
      fi_cq_read(cq, e, 16);
      if (now_ns() > deadline) die("fi_writemsg", (int)r);
    }
    if (r) die("fi_writemsg", (int)r);
    int want = 1;
    if (flush) {
      while ((r = fi_readmsg(ep, &rm, FI_COMPLETION)) == -FI_EAGAIN) {
        fi_cq_read(cq, e, 16);
        if (now_ns() > deadline) die("fi_readmsg", (int)r);
      }
      if (r) die("fi_readmsg", (int)r);
      want = 2;
    }
    for (int got = 0; got < want;) {
      ssize_t n = fi_cq_read(cq, e, 16);
      if (n > 0) {
        got += (int)n;
        continue;
      }
      if (now_ns() > deadline) die("write completion", -FI_ETIMEDOUT);
      if (n == -FI_EAVAIL) {
        struct fi_cq_err_entry ee = {0};
        fi_cq_readerr(cq, &ee, 0);
        fprintf(stderr, "write %ld failed: %s (prov %d: %s)\n", i, fi_strerror(ee.err), ee.prov_errno, fi_cq_strerror(cq, ee.prov_errno, ee.err_data, NULL, 0));
        exit(1);
      }
    }
  }
  double t1 = now_ns();
  printf("{\"usecPerWrite\":%.3f,\"deliveryComplete\":%d,\"flush\":%d}\n", (t1 - t0) / 1e3 / (double)iters, dc, flush);
  return 0;
}
