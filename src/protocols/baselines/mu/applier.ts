import type { Task } from '../../../platform/index.js';
import type { CpuCosts } from '../../lolkv/cpu.js';
import { HashTable } from '../../lolkv/hashtable.js';
import { keyHash, ptrOf } from '../../lolkv/layout.js';
import { decodeObject, isReadCommand } from '../../lolkv/object.js';
import type { Replica } from '../../lolkv/replica.js';
import type { MuOptions } from './options.js';

/**
 * A follower's apply thread (Mu: followers' CPUs apply every committed command from their log, in
 * log order, to their own table — the seed's "work repetition on all replicas"). It polls the next
 * entry; a missing entry (a hole left by an abandoned or re-sent write) is skipped once a later one
 * has been there for holeTimeoutNs. Each command costs what the leader's apply thread pays for it
 * (src/protocols/lolkv/cpu.ts): parse, hash, table probe, and for a PUT the copy into the store;
 * a read command is executed too (a lookup whose result nobody needs). The follower's table is its
 * own DRAM region (not the replica's hash-table region, which a leader's catch-up overwrites and
 * which this replica rebuilds if it becomes leader), started over whenever the term changes (a new
 * leader may rewrite the log). Correctness does not depend on it.
 */
export function* applier(r: Replica, opts: MuOptions, cpu: CpuCosts): Task<void> {
  const rt = r.p.rt;
  const eb = r.cfg.segmentBytes;
  const entries = Math.floor(r.cfg.areaBytes / eb);
  const mem = r.p.memory.dram('mu.applied', r.cfg.tableSlots * 8);
  const table = new HashTable(mem, r.area, r.cfg.tableSlots, eb, true, false);
  let next = 0;
  let holeSince = -1;
  let term = r.term;
  for (;;) {
    if (r.term !== term) {
      term = r.term;
      next = 0;
      holeSince = -1;
      yield* mem.write(0, new Uint8Array(mem.sizeBytes));
    }
    if (r.role === 'leader' || next >= entries) {
      yield* rt.sleep(opts.applyPollNs * 10);
      continue;
    }
    const bytes = yield* r.area.read(next * eb, eb);
    const d = decodeObject(bytes, 0, eb, true);
    if (d.kind === 'ok') {
      const o = d.obj;
      if (isReadCommand(o)) {
        yield* rt.compute(cpu.decode(o.size) + cpu.hash + cpu.table);
        yield* table.lookup(o.key, keyHash(o.key), false);
      } else {
        yield* rt.compute(cpu.decode(o.size) + cpu.hash + cpu.table + cpu.copy(o.size));
        yield* table.apply(o.key, keyHash(o.key), ptrOf(next * eb), o, true);
      }
      next++;
      holeSince = -1;
      continue;
    }
    if (next + 1 < entries) {
      const after = decodeObject(yield* r.area.read((next + 1) * eb, eb), 0, eb, true);
      if (after.kind === 'ok') {
        if (holeSince < 0) holeSince = rt.now();
        else if (rt.now() - holeSince >= opts.holeTimeoutNs) {
          next++;
          holeSince = -1;
          continue;
        }
      }
    }
    yield* rt.sleep(opts.applyPollNs);
  }
}
