/*
 * kvlab native bench baseline: a plain C loop of pmem_memcpy_persist (or memcpy + pmem_msync) on
 * an existing file, the same work the adapter's Memory.write + Memory.persist path does.
 *
 *   pmem_loop <file> <size> <iterations> <flush|msync>
 *
 * Prints one JSON line: {"nsPerOp":..., "isPmem":0|1, "mappedBytes":...}
 */
#include <libpmem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s file size iterations flush|msync\n", argv[0]);
    return 2;
  }
  size_t size = (size_t)atol(argv[2]);
  long iters = atol(argv[3]);
  int msync_mode = strcmp(argv[4], "msync") == 0;
  size_t mapped = 0;
  int is_pmem = 0;
  char *base = pmem_map_file(argv[1], 0, 0, 0, &mapped, &is_pmem);
  if (base == NULL) {
    fprintf(stderr, "pmem_map_file: %s\n", pmem_errormsg());
    return 1;
  }
  char *src = malloc(size);
  for (size_t i = 0; i < size; i++) src[i] = (char)(i * 31 + 7);
  size_t span = mapped - size;
  span -= span % 64;
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    size_t off = ((size_t)i * ((size + 63) & ~(size_t)63)) % span;
    src[0] = (char)i;
    if (msync_mode) {
      memcpy(base + off, src, size);
      pmem_msync(base + off, size);
    } else {
      pmem_memcpy_persist(base + off, src, size);
    }
  }
  double t1 = now_ns();
  printf("{\"nsPerOp\":%.3f,\"isPmem\":%d,\"mappedBytes\":%zu}\n", (t1 - t0) / (double)iters, is_pmem, mapped);
  pmem_unmap(base, mapped);
  free(src);
  return 0;
}
