import { type Memory, type Task, invariant } from '../../platform/index.js';
import { type DecodedObject, HEADER_BYTES, compareVersion, decodeObject, padded } from './object.js';
import { offOf } from './layout.js';

/**
 * The lock-free linear-probing hash table shared by every thread of a server (docs/lolkv.md,
 * "PUT" step 5 and "GET"). Slots hold pointers to objects in the segment area; a slot is claimed
 * with cas64(0 → ptr) and replaced with cas64(old → new); a failed CAS re-reads the slot and
 * re-probes. There are no deletions, so once a slot holds some version of a key it holds that
 * key for the life of the table (until the next leader rebuilds it).
 *
 * Every slot and object access is a shared-memory operation (a scheduling point).
 */

/** Bytes readObject reads at once (a small object's header and body in one memory operation). */
const READ_AHEAD = 256;

export type ApplyResult =
  | { kind: 'installed'; slot: number }
  | { kind: 'replaced'; slot: number; old: number; oldSize: number }
  | { kind: 'refused'; slot: number; newer: DecodedObject };

export interface Lookup {
  slot: number;
  /** 0 when the key is absent. */
  ptr: number;
  obj: DecodedObject | null;
}

export class HashTable {
  constructor(
    readonly table: Memory,
    readonly area: Memory,
    readonly slots: number,
    readonly segmentBytes: number,
    /** CRC validation on (false only with the test-only skipTornCheck). */
    readonly verify: boolean,
    /**
     * A table whose objects are never rewritten under it (a leader's). A non-strict table (a Mu
     * follower's, over a log a new leader may rewrite) takes a slot pointing at an invalid object
     * for a stale one instead of failing an invariant.
     */
    readonly strict = true,
  ) {}

  /**
   * Reads and decodes the object at slot word `ptr`: one read of up to READ_AHEAD bytes (header
   * and, for objects that small, the whole object), a second read only for a larger object.
   */
  *readObject(ptr: number): Task<DecodedObject | null> {
    const off = offOf(ptr);
    const segEnd = Math.min((Math.floor(off / this.segmentBytes) + 1) * this.segmentBytes, this.area.sizeBytes);
    if (off < 0 || off + HEADER_BYTES > segEnd) return null;
    let bytes = yield* this.area.read(off, Math.min(READ_AHEAD, segEnd - off));
    const len = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
    if (len < HEADER_BYTES || off + len > segEnd) return null;
    if (padded(len) > bytes.length) bytes = yield* this.area.read(off, padded(len));
    const d = decodeObject(bytes, 0, padded(len), this.verify);
    return d.kind === 'ok' ? d.obj : null;
  }

  /**
   * Finds `key`. With `recheck` (GC safety), after reading an object the slot is read again; if
   * it changed, the probe resumes at that slot, so a pointer into a segment freed and reused
   * meanwhile can never hand back a wrong object.
   */
  *lookup(key: string, hash: number, recheck: boolean): Task<Lookup> {
    let i = hash % this.slots;
    for (let probes = 0; probes < this.slots; ) {
      const ptr = yield* this.table.load64(i * 8);
      if (ptr === 0) return { slot: i, ptr: 0, obj: null };
      const obj = yield* this.readObject(ptr);
      if (recheck && (yield* this.table.load64(i * 8)) !== ptr) continue; // moved under us: read the slot again
      if (obj === null) {
        // Without the re-check a garbage read is taken for "another key" (the unsafe path).
        invariant(!this.strict || !recheck || !this.verify, () => `slot ${i} points at an invalid object (ptr ${ptr})`);
      } else if (obj.key === key) return { slot: i, ptr, obj };
      i = (i + 1) % this.slots;
      probes++;
    }
    invariant(false, `hash table full (${this.slots} slots) looking up ${key}`);
  }

  /**
   * Local apply of a committed object at `ptr` with version `ver` of `key`: installs it in an
   * empty slot, or replaces the key's current object only if `ver` is newer (`checkNewer`; the
   * incarnation check). Never moves a key's slot to an older version.
   */
  *apply(key: string, hash: number, ptr: number, ver: { term: number; inc: number }, checkNewer: boolean): Task<ApplyResult> {
    let i = hash % this.slots;
    for (let probes = 0; probes < this.slots; ) {
      const cur = yield* this.table.load64(i * 8);
      if (cur === 0) {
        if ((yield* this.table.cas64(i * 8, 0, ptr)) === 0) return { kind: 'installed', slot: i };
        continue;
      }
      const obj = yield* this.readObject(cur);
      if (obj === null) {
        if ((yield* this.table.load64(i * 8)) !== cur) continue;
        if (!this.strict) {
          // Stale (its object was rewritten): take the slot over.
          if ((yield* this.table.cas64(i * 8, cur, ptr)) === cur) return { kind: 'replaced', slot: i, old: cur, oldSize: 0 };
          continue;
        }
        invariant(!this.verify, () => `slot ${i} points at an invalid object (ptr ${cur})`);
        i = (i + 1) % this.slots;
        probes++;
        continue;
      }
      if (obj.key !== key) {
        i = (i + 1) % this.slots;
        probes++;
        continue;
      }
      if (checkNewer && compareVersion(ver, obj) <= 0) return { kind: 'refused', slot: i, newer: obj };
      if ((yield* this.table.cas64(i * 8, cur, ptr)) === cur) return { kind: 'replaced', slot: i, old: cur, oldSize: obj.size };
    }
    invariant(false, `hash table full (${this.slots} slots) applying ${key}`);
  }

  /** GC: moves the slot from `oldPtr` to `newPtr` if it still holds `oldPtr`. */
  *swing(slot: number, oldPtr: number, newPtr: number): Task<boolean> {
    return (yield* this.table.cas64(slot * 8, oldPtr, newPtr)) === oldPtr;
  }
}

/**
 * A table image built off-line (state sync): linear probing over `slots` for the given
 * (key hash, pointer) pairs. Returns the bytes and the slot of every entry.
 */
export function buildTableImage(slots: number, entries: readonly { hash: number; ptr: number }[]): { image: Uint8Array; slotOf: number[] } {
  invariant(entries.length < slots, `hash table too small: ${entries.length} keys, ${slots} slots`);
  const image = new Uint8Array(slots * 8);
  const dv = new DataView(image.buffer);
  const used = new Uint8Array(slots);
  const slotOf: number[] = [];
  for (const e of entries) {
    let i = e.hash % slots;
    while (used[i] === 1) i = (i + 1) % slots;
    used[i] = 1;
    dv.setUint32(i * 8, e.ptr >>> 0, true);
    dv.setUint32(i * 8 + 4, Math.floor(e.ptr / 4294967296), true);
    slotOf.push(i);
  }
  return { image, slotOf };
}
