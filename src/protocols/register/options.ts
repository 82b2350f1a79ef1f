import { s, type SchemaType } from '../../kv/schema.js';

export const registerOptions = s.obj({
  workers: s.int({ min: 1, max: 16, default: 2, doc: 'Worker threads on the primary, each with its own UD port for clients.' }),
  logBytes: s.int({ min: 4096, max: 1 << 30, default: 512 << 10, doc: 'Size of the PM log on every server.' }),
  attemptTimeoutNs: s.int({ min: 1000, default: 200_000, doc: 'Client: wait this long for a reply before resending the request.' }),
  opDeadlineNs: s.int({ min: 1000, default: 20_000_000, doc: 'Client: give up after this long (put/cas → info, get → fail).' }),
  reconnectNs: s.int({ min: 1000, default: 100_000, doc: 'Primary: retry interval for connecting to a lost backup.' }),
  unsafe: s.obj(
    {
      skipPersist: s.bool({ default: false, doc: 'TEST ONLY: acknowledge puts without persisting the log record (loses acknowledged writes at a crash).' }),
      skipChecksum: s.bool({ default: false, doc: 'TEST ONLY: recovery trusts records without checking their CRC (replays torn records).' }),
    },
    { doc: 'Test-only switches that disable a safety mechanism, to prove the checks catch it.' },
  ),
});

export type RegisterOptions = SchemaType<typeof registerOptions>;

/** UD port of primary worker i. */
export function workerPort(i: number): number {
  return 100 + i;
}
