/**
 * The peer process of the native message and RMA benchmarks: one native node that accepts RC
 * connections on service "echo", echoes every message it receives back on the same QP, and offers
 * a 4 MiB region for remote WRITEs (its rkey is the connection's private data). One client at a
 * time (all accepted QPs share one receive CQ).
 *
 *   echo-child <provider> <dataDir> [atomics]
 *
 * Prints "READY <main endpoint address, hex>" once listening; exits on SIGTERM or when stdin closes.
 */
import { Access, type Task } from '../../src/platform/index.js';
import { NativeNode } from '../adapter/node.js';
import { toHex } from '../adapter/wire.js';

const SLOTS = 16;
const SLOT_BYTES = 1 << 16;

const [provider = 'tcp', dataDir = '/tmp/kvlab-echo', atomics = 'auto'] = process.argv.slice(2);
const node = new NativeNode({ nodeId: 1, dataDir, provider, host: '127.0.0.1', port: 0, quiet: true, atomics: atomics as 'auto' | 'native' | 'rpc' });
const p = node.platform;
const target = p.memory.dram('rma', 4 << 20);
const key = p.fabric.registerMemory(target, Access.REMOTE_WRITE | Access.REMOTE_READ | Access.REMOTE_ATOMIC);
const pd = new Uint8Array(4);
new DataView(pd.buffer).setUint32(0, key.rkey, true);
const recvCq = p.fabric.createCq({ capacity: 4 * SLOTS });
const listener = p.fabric.listen('echo', { cq: p.fabric.createCq({ capacity: 64, overrunIgnoring: true }), recvCq, recvCapacity: SLOTS, privateData: pd });

p.rt.spawn('accept', function* (): Task<void> {
  for (;;) {
    const qp = yield* listener.accept();
    if (qp === null) continue;
    const buf = p.memory.dram(`echo${qp.id}`, SLOTS * SLOT_BYTES);
    p.rt.spawn(`serve${qp.id}`, function* (): Task<void> {
      for (let i = 0; i < SLOTS; i++) yield* qp.postRecv({ mem: buf, offset: i * SLOT_BYTES, length: SLOT_BYTES }, i);
      for (;;) {
        const c = yield* recvCq.next();
        if (c === null) continue;
        if (c.status !== 'success') {
          if (qp.state === 'error') return;
          continue;
        }
        yield* qp.send({ mem: buf, offset: c.wrId * SLOT_BYTES, length: c.byteLen }, { signaled: false });
        yield* qp.postRecv({ mem: buf, offset: c.wrId * SLOT_BYTES, length: SLOT_BYTES }, c.wrId);
      }
    });
  }
});

function stop(): void {
  node.shutdown();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
process.stdout.write(`READY ${toHex(node.info.name)}\n`);
