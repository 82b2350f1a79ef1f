import type { ClusterInfo, Platform, Task } from '../../platform/index.js';
import { UdRpcClient } from '../../kv/udrpc.js';
import { type KvClient, type OpResult, fail, info, ok } from '../protocol.js';
import { REQ_CAS, REQ_GET, REQ_PUT, RES_CAS_FALSE, RES_OK, type Request, type Response, decodeResponse, encodeRequest } from './messages.js';
import { type RegisterOptions, workerPort } from './options.js';

/**
 * Client of the register store: UD requests to the primary's worker port, resent every
 * `attemptTimeoutNs` with the same request id until `opDeadlineNs`; then a write is `info`
 * (it may still take effect) and a read is `fail` (it has no effect).
 */
export class RegisterClient implements KvClient {
  private readonly rpc: UdRpcClient;
  private readonly dst;

  constructor(
    private readonly p: Platform,
    cluster: ClusterInfo,
    private readonly opts: RegisterOptions,
    clientId: number,
  ) {
    this.rpc = new UdRpcClient(p, `reg.client${clientId}`, clientId);
    this.dst = { node: cluster.servers[0]!, port: workerPort(clientId % opts.workers) };
  }

  private *request(q: Request): Task<Response | null> {
    const reqId = this.rpc.newRequestId();
    const now = () => this.p.rt.now();
    const deadline = now() + this.opts.opDeadlineNs;
    const body = encodeRequest(q);
    while (now() < deadline) {
      const r = yield* this.rpc.call(this.dst, reqId, body, Math.min(this.opts.attemptTimeoutNs, deadline - now()), now);
      if (r !== null) return decodeResponse(r);
    }
    return null;
  }

  *get(key: string): Task<OpResult<string | null>> {
    const r = yield* this.request({ op: REQ_GET, key });
    if (r === null) return fail('timeout');
    return r.status === RES_OK ? ok(r.value) : fail(r.value ?? 'error');
  }

  *put(key: string, value: string): Task<OpResult<null>> {
    const r = yield* this.request({ op: REQ_PUT, key, value });
    if (r === null) return info('timeout');
    return r.status === RES_OK ? ok(null) : fail(r.value ?? 'error');
  }

  *cas(key: string, expected: string | null, value: string): Task<OpResult<boolean>> {
    const r = yield* this.request({ op: REQ_CAS, key, expected, value });
    if (r === null) return info('timeout');
    if (r.status === RES_OK) return ok(true);
    if (r.status === RES_CAS_FALSE) return ok(false);
    return fail(r.value ?? 'error');
  }
}
