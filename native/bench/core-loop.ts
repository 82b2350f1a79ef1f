import { Access, Future, type MemoryKey, type Platform, type Task, allOf } from '../../src/platform/index.js';

/**
 * The simulator-core loop (sim/bench/sim-core.ts) written against `Platform` only, so the same
 * code runs on the simulator and on the native backend: `coroutines` threads spread over the
 * nodes, each looping {RDMA WRITE 64 B to a peer; wait for its completion; CAS on local memory}.
 *
 * `setup` must run on every node before `start` (it registers the target region and listens);
 * `start` spawns the workers and returns a future resolved when all of them have finished.
 */
export interface CoreLoopOptions {
  coroutines: number;
  opsPerCoroutine: number;
}

export interface CoreLoopNode {
  readonly key: MemoryKey;
  readonly local: ReturnType<Platform['memory']['dram']>;
}

export function coreLoopSetup(p: Platform): CoreLoopNode {
  const mem = p.memory.dram('bench', 1 << 20);
  const key = p.fabric.registerMemory(mem, Access.ALL);
  p.fabric.listen('bench', { cq: p.fabric.createCq({ capacity: 16, overrunIgnoring: true }) });
  return { key, local: p.memory.dram('local', 1 << 16) };
}

export interface CoreLoopResult {
  ops: number;
  failures: number;
  /** Per node: the final value of each worker's local CAS word equals opsPerCoroutine. */
  casWordsOk: boolean;
}

export function coreLoopStart(platforms: readonly Platform[], nodes: readonly CoreLoopNode[], opts: CoreLoopOptions): { done: Future<void>; result: CoreLoopResult } {
  const n = platforms.length;
  if (n < 2) throw new Error('core loop needs at least two nodes');
  const per = Math.ceil(opts.coroutines / n);
  const result: CoreLoopResult = { ops: 0, failures: 0, casWordsOk: true };
  const finished: Future<void>[] = [];
  let started = 0;
  for (let node = 0; node < n && started < opts.coroutines; node++) {
    const p = platforms[node]!;
    const local = nodes[node]!.local;
    for (let i = 0; i < per && started < opts.coroutines; i++, started++) {
      const peer = (node + 1 + (i % (n - 1))) % n;
      const slot = i;
      const h = p.rt.spawn(`w${i}`, function* (): Task<void> {
        const cq = p.fabric.createCq({ capacity: 4 });
        const conn = yield* p.fabric.connect(peer, 'bench', { cq });
        if (conn === null) {
          result.failures++;
          return;
        }
        const payload = new Uint8Array(64);
        const rkey = nodes[peer]!.key.rkey;
        for (let k = 0; k < opts.opsPerCoroutine; k++) {
          payload[0] = k & 0xff;
          yield* conn.qp.write(payload, { rkey, offset: (slot * 64) % (1 << 20) }, { wrId: k });
          const c = yield* cq.next();
          if (c === null || c.status !== 'success' || c.wrId !== k) {
            result.failures++;
            return;
          }
          const old = yield* local.cas64((slot * 8) % (1 << 16), k, k + 1);
          if (old !== k) result.casWordsOk = false;
          result.ops++;
        }
        conn.qp.close();
      });
      finished.push(h.finished);
    }
  }
  return { done: allOf(finished), result };
}
