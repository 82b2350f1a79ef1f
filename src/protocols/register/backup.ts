import type { Platform, Task } from '../../platform/index.js';
import { Reader, Writer } from '../../kv/codec.js';
import type { ServerHandle } from '../protocol.js';
import type { RegisterOptions } from './options.js';
import { BACKUP_ACCESS } from './primary.js';

const NOTICE_BUFFERS = 4;
const NOTICE_BUFFER_BYTES = 4096;
const NOTICE_STRIDE_BYTES = 64;

/**
 * A backup of the example register store: passive for data (the primary WRITEs into its PM log
 * and claims it with READ + CAS on its owner word), with one control thread that drains commit
 * notices SENT into a multi-packet shared receive queue (stride 64 B, 4 KiB buffers, reposted in
 * ring order when the NIC retires them) whose CQ is an overrun-ignoring ring.
 */
export function startBackup(p: Platform, opts: RegisterOptions): ServerHandle {
  const log = p.memory.pm('reg.log', opts.logBytes);
  const meta = p.memory.pm('reg.meta', 64);
  const logKey = p.fabric.registerMemory(log, BACKUP_ACCESS);
  const metaKey = p.fabric.registerMemory(meta, BACKUP_ACCESS);
  const notices = p.memory.dram('reg.notices', NOTICE_BUFFERS * NOTICE_BUFFER_BYTES);
  const recvCq = p.fabric.createCq({ capacity: 256, overrunIgnoring: true });
  const srq = p.fabric.createSrq({ capacity: NOTICE_BUFFERS, cq: recvCq, multiPacket: { strideBytes: NOTICE_STRIDE_BYTES } });
  const sendCq = p.fabric.createCq({ capacity: 16, overrunIgnoring: true });
  let highestNotice = 0;

  p.rt.spawn('control', function* (): Task<void> {
    for (let b = 0; b < NOTICE_BUFFERS; b++) yield* srq.postRecv({ mem: notices, offset: b * NOTICE_BUFFER_BYTES, length: NOTICE_BUFFER_BYTES }, b);
    const privateData = new Writer(12).u32(logKey.rkey).u32(metaKey.rkey).u32(p.rt.bootCount).finish();
    p.fabric.listen('reg', { cq: sendCq, srq, privateData });
    for (;;) {
      const c = yield* recvCq.next();
      if (c === null || c.status !== 'success') continue;
      if (c.byteLen >= 8) {
        const seq = new Reader(notices.peek(c.wrId * NOTICE_BUFFER_BYTES + (c.bufOffset ?? 0), 8)).u53();
        if (seq > highestNotice) highestNotice = seq;
      }
      if (c.bufferDone === true) yield* srq.postRecv({ mem: notices, offset: c.wrId * NOTICE_BUFFER_BYTES, length: NOTICE_BUFFER_BYTES }, c.wrId);
    }
  });

  return {
    role: () => 'backup',
    checkInvariants: () => (srq.postedCount > NOTICE_BUFFERS ? [`SRQ holds ${srq.postedCount} buffers, posted at most ${NOTICE_BUFFERS}`] : []),
  };
}
