/**
 * Runs the native benchmarks from a shell and prints their JSON (until `kvlab bench native-*`
 * calls the same functions):
 *
 *   npx vite-node native/bench/run.ts message|rma|pmem|all     (or node dist/native/bench/run.js …)
 */
import { loadavg } from 'node:os';
import { benchNativeMessage, benchNativePmem, benchNativeRma } from './index.js';

const which = process.argv[2] ?? 'all';
if (!['message', 'rma', 'pmem', 'all'].includes(which)) {
  process.stderr.write(`native bench: unknown benchmark '${which}' (message, rma, pmem, all)\n`);
  process.exit(2);
}
try {
  const out: Record<string, unknown> = { loadavgBefore: loadavg().map((x) => Math.round(x * 100) / 100) };
  if (which === 'message' || which === 'all') out['message'] = await benchNativeMessage();
  if (which === 'rma' || which === 'all') out['rma'] = await benchNativeRma();
  if (which === 'pmem' || which === 'all') out['pmem'] = await benchNativePmem();
  out['loadavgAfter'] = loadavg().map((x) => Math.round(x * 100) / 100);
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
  process.exit(0);
} catch (e) {
  process.stderr.write(`native bench: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
}
