/** The workload: YCSB and register mixes, key distributions, value sizes, the client driver, stats. */
export * from './config.js';
export * from './driver.js';
export * from './generator.js';
export * from './keyspace.js';
export * from './mixes.js';
export * from './choosers.js';
export * from './values.js';
export * from './latency.js';
export * from './stats.js';
export * from './zipfian.js';
export * from './zeta.js';
export * from './fnv.js';
export * from './permutation.js';
export * from './load.js';
