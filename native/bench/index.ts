/**
 * The native benchmarks, as plain async functions returning JSON (for `kvlab bench native-*`):
 *   native-message — message round trip vs fi_pingpong (target ratio ≥ 0.5)
 *   native-rma     — RMA WRITE round trip vs the same loop in C
 *   native-pmem    — PM persist path vs a C loop of pmem_memcpy_persist (target ratio ≥ 0.8)
 * Each throws a one-line Error naming what is missing when the addon or a tool is not available.
 */
export { benchNativeMessage, type MessageBenchOptions, type MessageBenchResult } from './message.js';
export { benchNativeRma, type RmaBenchOptions, type RmaBenchResult } from './rma.js';
export { benchNativePmem, type PmemBenchOptions, type PmemBenchResult } from './pmem.js';
export { coreLoopSetup, coreLoopStart, type CoreLoopOptions, type CoreLoopResult } from './core-loop.js';
