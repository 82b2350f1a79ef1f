import type { ClusterInfo, Platform, Task } from '../../../platform/index.js';
import { Reader } from '../../../kv/codec.js';
import { UdRpcClient } from '../../../kv/udrpc.js';
import { type KvClient, type OpResult, fail, info, ok } from '../../protocol.js';
import { type Config, decodeConfig, shardOf } from './config.js';
import { OP_CONFIG, OP_GET, OP_PUT, type Request, ST_NOT_PRIMARY, ST_OK, encodeRequest } from './messages.js';
import { type RowanKvOptions, workerPort } from './options.js';

/**
 * A Rowan-KV client: caches the configuration (shard → primary) and sends each request over UD to
 * the primary of the key's shard, at the worker port `clientId mod workers`. On NOT_PRIMARY, RETRY
 * or silence it refreshes the configuration (asking the servers in turn; the highest epoch wins)
 * and resends with the same request id, until `opDeadlineNs`; then a PUT is `info` (it may still
 * take effect) and a GET `fail`.
 */
export class RowanKvClient implements KvClient {
  private readonly rpc: UdRpcClient;
  private config: Config | null = null;
  private ask = 0;

  constructor(
    private readonly p: Platform,
    private readonly cluster: ClusterInfo,
    private readonly opts: RowanKvOptions,
    private readonly clientId: number,
  ) {
    this.rpc = new UdRpcClient(p, `rk.client${clientId}`, clientId);
    this.ask = clientId % cluster.servers.length;
  }

  private now = (): number => this.p.rt.now();

  private *refresh(timeoutNs: number): Task<void> {
    const n = this.cluster.servers[this.ask++ % this.cluster.servers.length]!;
    const r = yield* this.rpc.call({ node: n, port: workerPort(this.clientId % this.opts.workers) }, this.rpc.newRequestId(), encodeRequest({ op: OP_CONFIG }), timeoutNs, this.now);
    if (r === null || r.length < 2 || r[0] !== ST_OK) return;
    const c = decodeConfig(new Reader(r.subarray(1)));
    if (this.config === null || c.epoch > this.config.epoch) this.config = c;
  }

  private *request(q: Request & { key: string }): Task<Uint8Array | null> {
    const reqId = this.rpc.newRequestId();
    const deadline = this.now() + this.opts.opDeadlineNs;
    const body = encodeRequest(q);
    const s = shardOf(q.key, this.opts.shards);
    let backoff = 2_000;
    while (this.now() < deadline) {
      if (this.config === null || this.config.epoch === 0) {
        yield* this.refresh(Math.min(this.opts.attemptTimeoutNs, deadline - this.now()));
        if (this.config === null) continue;
      }
      const dst = { node: this.config.shards[s]!.primary, port: workerPort(this.clientId % this.opts.workers) };
      const r = yield* this.rpc.call(dst, reqId, body, Math.min(this.opts.attemptTimeoutNs, deadline - this.now()), this.now);
      if (r !== null && r[0] === ST_OK) return r;
      if (r !== null && r[0] !== ST_NOT_PRIMARY) yield* this.p.rt.sleep(backoff);
      backoff = Math.min(backoff * 2, 50_000);
      if (this.now() < deadline) yield* this.refresh(Math.min(this.opts.attemptTimeoutNs / 2, deadline - this.now()));
    }
    return null;
  }

  *get(key: string): Task<OpResult<string | null>> {
    const r = yield* this.request({ op: OP_GET, key });
    if (r === null) return fail('timeout');
    return ok(new Reader(r.subarray(1)).strOrNull());
  }

  *put(key: string, value: string): Task<OpResult<null>> {
    const r = yield* this.request({ op: OP_PUT, key, value });
    if (r === null) return info('timeout');
    return ok(null);
  }
}
