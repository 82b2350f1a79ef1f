/** Rowan: receiver-side aggregation of remote PM writes (see docs/rowan.md). */
export * from './frame.js';
export * from './receiver.js';
export * from './scanner.js';
export * from './sender.js';
