import type { Task } from '../../../platform/index.js';
import { UdRpcServer } from '../../../kv/udrpc.js';
import { type Ping, type Pong, decodePing, encodePong } from './messages.js';
import { AGENT_PORT } from './options.js';
import type { ServerState } from './state.js';

/**
 * A server's agent: answers the CM's pings. A ping carries the CM's configuration (adopted when
 * newer) and a lease (the server may serve as a primary until then; the CM stops granting leases
 * to a server it means to depose and waits for the last one to run out before promoting another
 * server — so no two primaries of a shard ever serve at the same time). The reply carries the
 * server's boot count (a restart is noticed) and its reports.
 */
export function handlePing(st: ServerState, ping: Ping): Pong {
  if (ping.config.epoch >= st.config.epoch) {
    st.adopt(ping.config);
    if (ping.leaseUntil > st.leaseUntil) st.leaseUntil = ping.leaseUntil;
  }
  return { bootCount: st.p.rt.bootCount, epoch: st.config.epoch, reports: st.reports };
}

export function* runAgent(st: ServerState): Task<void> {
  const rpc = new UdRpcServer(st.p, 'rk.agent', AGENT_PORT, { recvSlots: 32, slotBytes: 1024 });
  yield* rpc.start();
  for (;;) {
    const req = yield* rpc.next();
    if (req === null) continue;
    const pong = handlePing(st, decodePing(req.body));
    yield* rpc.reply(req, encodePong(pong));
  }
}
