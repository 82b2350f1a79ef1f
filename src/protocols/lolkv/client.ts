import type { ClusterInfo, Platform, Task } from '../../platform/index.js';
import { UdRpcClient } from '../../kv/udrpc.js';
import { type KvClient, type OpResult, fail, info, ok } from '../protocol.js';
import { REQ_GET, REQ_PUT, RES_NOT_LEADER, RES_OK, RES_RETRY, type Request, type Response, decodeResponse, encodeRequest } from './messages.js';
import { workerPort } from './options.js';

/** Client timing (the protocol options it needs). */
export interface ClientOptions {
  threads: number;
  attemptTimeoutNs: number;
  opDeadlineNs: number;
}

/**
 * A LoLKV client (docs/lolkv.md, "Clients"): UD requests with (clientId, reqId), always to worker
 * port clientId mod threads of the replica it believes leads. Resent every attemptTimeoutNs with
 * the same reqId (so a PUT takes effect once); NOT_LEADER → the hinted replica, or the next one;
 * RETRY → the same one, a little later (the wait doubles, up to attemptTimeoutNs). After opDeadlineNs a PUT is info, a GET fail.
 */
export class LolkvClient implements KvClient {
  private readonly rpc: UdRpcClient;
  private leader: number;
  private readonly port: number;

  constructor(
    private readonly p: Platform,
    private readonly cluster: ClusterInfo,
    private readonly opts: ClientOptions,
    clientId: number,
    name = 'lolkv',
  ) {
    this.rpc = new UdRpcClient(p, `${name}.client${clientId}`, clientId, { recvSlots: 16, slotBytes: 2048 });
    this.port = workerPort(clientId % opts.threads);
    this.leader = cluster.servers[clientId % cluster.servers.length]!;
  }

  private next(): void {
    const s = this.cluster.servers;
    this.leader = s[(s.indexOf(this.leader) + 1) % s.length]!;
  }

  private *request(q: Request): Task<Response | null> {
    const rt = this.p.rt;
    const reqId = this.rpc.newRequestId();
    const deadline = rt.now() + this.opts.opDeadlineNs;
    const body = encodeRequest(q);
    // Backoff after RETRY, or NOT_LEADER with no hint: doubling from 1/8 of the attempt timeout up
    // to the attempt timeout, fresh for every operation. A leader still syncing (or an election
    // under way) answers at once, so a fixed short backoff had every client re-ask every 12.5 µs
    // for the whole sync — most of the events of a short run's start-up.
    const cap = Math.max(1000, this.opts.attemptTimeoutNs);
    let backoff = Math.max(1000, Math.floor(this.opts.attemptTimeoutNs / 8));
    while (rt.now() < deadline) {
      const raw = yield* this.rpc.call({ node: this.leader, port: this.port }, reqId, body, Math.min(this.opts.attemptTimeoutNs, deadline - rt.now()), () => rt.now());
      const res = raw === null ? null : decodeResponse(raw);
      if (res === null) {
        this.next();
        continue;
      }
      if (res.status === RES_NOT_LEADER) {
        if (res.hint >= 0 && res.hint !== this.leader && this.cluster.servers.includes(res.hint)) this.leader = res.hint;
        else {
          this.next();
          yield* rt.sleep(backoff);
          backoff = Math.min(cap, backoff * 2);
        }
        continue;
      }
      if (res.status === RES_RETRY) {
        yield* rt.sleep(backoff);
        backoff = Math.min(cap, backoff * 2);
        continue;
      }
      return res;
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
    return r.status === RES_OK ? ok(null) : info(r.value ?? 'error');
  }
}
