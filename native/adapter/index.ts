/**
 * The native backend: kvlab's platform (src/platform) on real machines, over the C++ addon
 * (libfabric + libpmem). See docs/native.md and docs/platform.md.
 */
export { addonUnavailableReason, loadAddon, providerFromEnv, requireAddon, type Addon, type NicInfo } from '../addon.js';
export { type PeerAddress } from './driver.js';
export { NativeCq, NativeFabric, NativeListener, NativeQp, NativeUd, RecvQueue } from './fabric.js';
export { NativeMemory, NativeMemoryProvider, type PersistMode, regionFileName } from './memory.js';
export { LocalCluster, type LocalClusterOptions, NativeNode, type NativeNodeOptions, type NativeTraceEvent, describe, nextBootCount, settle } from './node.js';
export { NativeScheduler, NativeThread, type Pollable, sharedScheduler } from './scheduler.js';
