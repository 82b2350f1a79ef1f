/**
 * The only interfaces protocol code may use. Implemented by the simulator (`sim/`) and by the
 * native backend (`native/`). See docs/platform.md for the libfabric / libpmem mapping.
 */
import type { Fabric } from './fabric.js';
import type { MemoryProvider } from './memory.js';
import type { NodeId, Runtime } from './runtime.js';

export * from './task.js';
export * from './runtime.js';
export * from './memory.js';
export * from './fabric.js';

/** Everything a protocol running on one node gets. */
export interface Platform {
  readonly rt: Runtime;
  readonly fabric: Fabric;
  readonly memory: MemoryProvider;
}

/** Who is in the cluster. Servers are nodes 0..servers-1; clients follow. */
export interface ClusterInfo {
  readonly servers: readonly NodeId[];
  readonly clients: readonly NodeId[];
}
