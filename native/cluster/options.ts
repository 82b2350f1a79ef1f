/**
 * Protocol options for real time. The protocols' defaults suit the simulator (microsecond
 * heartbeats and election timeouts, tiny storage); on the native backend a thread's scheduling
 * delay is tens of microseconds to milliseconds (one JavaScript thread per process, the event
 * loop, the kernel), so timeouts are scaled up and storage is sized for minutes of load. A
 * cluster file's `protocol.options` override these field by field.
 */
export const NATIVE_PROTOCOL_DEFAULTS: Record<string, Record<string, unknown>> = {
  lolkv: {
    threads: 4,
    pipelineDepth: 8,
    segments: 1024,
    segmentBytes: 65536,
    tableSlots: 1 << 17,
    incarnations: 1 << 14,
    heartbeatNs: 2_000_000,
    electionTimeoutMinNs: 300_000_000,
    electionTimeoutMaxNs: 600_000_000,
    voteRetryNs: 50_000_000,
    stepDownNs: 600_000_000,
    reconnectNs: 50_000_000,
    connectTimeoutNs: 1_000_000_000,
    commitTimeoutNs: 500_000_000,
    readCheckTimeoutNs: 500_000_000,
    gcIntervalNs: 20_000_000,
    gcGraceNs: 100_000_000,
    attemptTimeoutNs: 200_000_000,
    opDeadlineNs: 5_000_000_000,
  },
  register: {
    attemptTimeoutNs: 200_000_000,
    opDeadlineNs: 5_000_000_000,
    reconnectNs: 50_000_000,
    logBytes: 16 << 20,
  },
};

/** The native defaults of `protocol` with `overrides` on top (unknown protocols: the overrides). */
export function nativeProtocolOptions(protocol: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(NATIVE_PROTOCOL_DEFAULTS[protocol] ?? {}), ...overrides };
}
