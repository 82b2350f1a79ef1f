import type { ClusterInfo, Memory, Platform, Task } from '../../../platform/index.js';
import { crc32c } from '../../../kv/checksum.js';
import { Reader } from '../../../kv/codec.js';
import { UdRpcClient } from '../../../kv/udrpc.js';
import { handlePing } from './agent.js';
import { type Config, cloneConfig, decodeConfig, encodeConfig, initialConfig, isMember } from './config.js';
import { REPORT_CAUGHT_UP, REPORT_RELEASED, type Pong, type Report, decodePong, encodePing } from './messages.js';
import { AGENT_PORT, type RowanKvOptions } from './options.js';
import type { ServerState } from './state.js';

const SLOT = 4096;

/**
 * The configuration manager: a thread on a designated server (the first one). It owns the
 * configuration (shard → primary, backups; epoch), keeps it in PM (two slots, CRC-checked, the
 * newer valid one wins at restart), and drives every change:
 *
 *  - heartbeats: a ping to every server every pingNs carries the configuration and a lease;
 *  - a server silent for suspectNs is dropped from the shards it backs up; for a shard it is primary
 *    of, the CM stops granting it leases, waits until the last lease it granted has run out (and,
 *    after its own restart, leaseNs), then promotes a responsive backup;
 *  - a restarted server (its boot count changed) lost its backup indexes: it is dropped from the
 *    shards it backs up; it stays primary where it was (its primary logs hold its shards);
 *  - a shard with fewer than `replicas` members gets a responsive server as `joining`; the primary
 *    catches it up and reports CAUGHT_UP; the CM makes it a backup;
 *  - resharding: every reshardEveryNs a shard's primary hands the shard to one of its backups
 *    (`handoff`); the primary drains and reports RELEASED; the CM swaps them.
 * While the CM is down nothing is reconfigured (servers keep their last configuration and lease
 * out): a restart of the CM's node is a pause, not a loss.
 */
export function startCm(p: Platform, cluster: ClusterInfo, opts: RowanKvOptions, local: ServerState): void {
  const servers = cluster.servers;
  const me = p.rt.nodeId;
  const pm = p.memory.pm('rk.cm', 2 * SLOT);
  const loaded = load(pm);
  let config: Config = loaded?.config ?? initialConfig(servers.length, opts.shards, opts.replicas);
  const boots: number[] = loaded?.boots ?? servers.map(() => 0);
  const startedAt = p.rt.now();
  const lastReply = servers.map(() => startedAt);
  const grantedUntil = servers.map(() => 0);
  const withhold = servers.map(() => false);
  const rebooted = servers.map(() => false);
  const reports: Report[][] = servers.map(() => []);
  /** The configuration epoch each server has adopted (from its ping replies). */
  const adopted = servers.map(() => 0);
  const joiningEpoch = config.shards.map(() => 0);
  const handoffEpoch = config.shards.map(() => config.epoch);
  let nextReshard = startedAt + opts.reshardEveryNs;
  let reshardCursor = 0;
  if (p.rt.bootCount > 0) rebooted[me] = true;
  boots[me] = p.rt.bootCount;
  local.adopt(config);

  function onPong(n: number, pong: Pong): void {
    lastReply[n] = p.rt.now();
    if (pong.bootCount !== boots[n]) {
      boots[n] = pong.bootCount;
      rebooted[n] = true;
    }
    reports[n] = pong.reports;
    adopted[n] = pong.epoch;
  }

  for (const n of servers) {
    p.rt.spawn(`rk.cm.ping${n}`, function* (): Task<void> {
      const rpc = n === me ? null : new UdRpcClient(p, `rk.cm.c${n}`, 1_000_000 + n, { recvSlots: 8, slotBytes: 1024 });
      for (;;) {
        const t0 = p.rt.now();
        const lease = withhold[n] ? 0 : t0 + opts.leaseNs;
        if (lease > grantedUntil[n]!) grantedUntil[n] = lease;
        const ping = { config, leaseUntil: lease };
        if (rpc === null) onPong(n, handlePing(local, ping));
        else {
          const r = yield* rpc.call({ node: n, port: AGENT_PORT }, rpc.newRequestId(), encodePing(ping), opts.pingNs, () => p.rt.now());
          if (r !== null) onPong(n, decodePong(r));
        }
        const left = t0 + opts.pingNs - p.rt.now();
        if (left > 0) yield* p.rt.sleep(left);
      }
    });
  }

  p.rt.spawn('rk.cm', function* (): Task<void> {
    for (;;) {
      yield* p.rt.sleep(opts.pingNs);
      const next = decide();
      if (next === null) continue;
      yield* save(pm, next, boots);
      config = next;
      local.adopt(config);
      p.rt.trace('rowankv.cm-config', { epoch: config.epoch, shards: describe(config) });
    }
  });

  function responsive(n: number): boolean {
    return n === me || p.rt.now() - lastReply[n]! < opts.suspectNs;
  }

  function decide(): Config | null {
    const now = p.rt.now();
    const c = cloneConfig(config);
    let changed = false;
    for (const n of servers) {
      if (!rebooted[n]) continue;
      rebooted[n] = false;
      for (const x of c.shards) {
        if (x.backups.includes(n)) {
          x.backups = x.backups.filter((b) => b !== n);
          changed = true;
        }
        if (x.joining === n) {
          x.joining = -1;
          x.joinReady = false;
        }
        if (x.handoff === n) x.handoff = -1;
      }
      changed = true;
    }
    for (const n of servers) if (withhold[n] && responsive(n)) withhold[n] = false;
    for (let s = 0; s < c.shards.length; s++) {
      const x = c.shards[s]!;
      const live = x.backups.filter(responsive);
      if (live.length !== x.backups.length) {
        x.backups = live;
        changed = true;
      }
      if (x.joining >= 0 && !responsive(x.joining)) {
        x.joining = -1;
        x.joinReady = false;
        changed = true;
      }
      if (x.joining >= 0 && !x.joinReady && adopted[x.joining]! >= joiningEpoch[s]!) {
        x.joinReady = true;
        changed = true;
      }
      if (x.handoff >= 0 && !x.backups.includes(x.handoff)) {
        x.handoff = -1;
        changed = true;
      }
      if (!responsive(x.primary)) {
        const cand = x.backups[0];
        if (cand === undefined) continue;
        withhold[x.primary] = true;
        const leaseOver = now > grantedUntil[x.primary]! && now > startedAt + opts.leaseNs;
        if (!leaseOver && !opts.unsafe.skipEpochCheck) continue;
        p.rt.trace('rowankv.cm-promote', { shard: s, from: x.primary, to: cand });
        x.backups = x.backups.slice(1);
        x.primary = cand;
        x.joining = -1;
        x.joinReady = false;
        x.handoff = -1;
        changed = true;
        continue;
      }
      for (const r of reports[x.primary]!) {
        if (r.shard !== s) continue;
        if (r.kind === REPORT_RELEASED && x.handoff >= 0 && r.node === x.handoff && r.epoch >= handoffEpoch[s]!) {
          p.rt.trace('rowankv.cm-handoff', { shard: s, from: x.primary, to: x.handoff });
          x.backups = [x.primary, ...x.backups.filter((b) => b !== x.handoff)];
          x.primary = x.handoff;
          x.handoff = -1;
          x.joining = -1;
          x.joinReady = false;
          changed = true;
        } else if (r.kind === REPORT_CAUGHT_UP && x.joining >= 0 && x.joinReady && r.node === x.joining && r.epoch >= joiningEpoch[s]!) {
          p.rt.trace('rowankv.cm-joined', { shard: s, node: x.joining });
          x.backups.push(x.joining);
          x.joining = -1;
          x.joinReady = false;
          changed = true;
        }
      }
      if (x.joining < 0 && x.handoff < 0 && 1 + x.backups.length < Math.min(opts.replicas, servers.length)) {
        const j = servers.find((n) => !isMember(x, n) && responsive(n) && !withhold[n]);
        if (j !== undefined) {
          x.joining = j;
          x.joinReady = false;
          joiningEpoch[s] = c.epoch + 1;
          changed = true;
        }
      }
    }
    if (opts.reshardEveryNs > 0 && now >= nextReshard && c.shards.every((x) => x.joining < 0 && x.handoff < 0)) {
      nextReshard = now + opts.reshardEveryNs;
      const s = reshardCursor++ % c.shards.length;
      const x = c.shards[s]!;
      const b = x.backups.find(responsive);
      if (b !== undefined && responsive(x.primary)) {
        x.handoff = b;
        handoffEpoch[s] = c.epoch + 1;
        changed = true;
        p.rt.trace('rowankv.cm-reshard', { shard: s, from: x.primary, to: b });
      }
    }
    if (!changed) return null;
    c.epoch++;
    return c;
  }
}

function describe(c: Config): string {
  return c.shards.map((x) => `${x.primary}:${x.backups.join('')}${x.joining >= 0 ? `+${x.joining}` : ''}${x.handoff >= 0 ? `>${x.handoff}` : ''}`).join(' ');
}

function load(pm: Memory): { config: Config; boots: number[] } | null {
  let best: { config: Config; boots: number[] } | null = null;
  for (let slot = 0; slot < 2; slot++) {
    const b = pm.peek(slot * SLOT, SLOT);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const crc = dv.getUint32(0, true);
    const len = dv.getUint32(4, true);
    if (len === 0 || len > SLOT - 8 || crc32c(b, 4, 8 + len) !== crc) continue;
    try {
      const r = new Reader(b.subarray(8, 8 + len));
      const config = decodeConfig(r);
      const n = r.u16();
      const boots: number[] = [];
      for (let i = 0; i < n; i++) boots.push(r.u32());
      if (best === null || config.epoch > best.config.epoch) best = { config, boots };
    } catch {
      continue;
    }
  }
  return best;
}

function* save(pm: Memory, c: Config, boots: readonly number[]): Task<void> {
  const w = encodeConfig(c);
  w.u16(boots.length);
  for (const b of boots) w.u32(b);
  const body = w.finish();
  const rec = new Uint8Array(8 + body.length);
  rec.set(body, 8);
  new DataView(rec.buffer).setUint32(4, body.length, true);
  new DataView(rec.buffer).setUint32(0, crc32c(rec, 4, rec.length), true);
  const slot = (c.epoch % 2) * SLOT;
  yield* pm.write(slot, rec);
  yield* pm.persist(slot, rec.length);
}
