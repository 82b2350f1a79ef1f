import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the built command line (`bin/kvlab.js` over dist/) in a separate process. */
export function kvlab(args: string[], opts: { cwd?: string } = {}): CliResult {
  if (!existsSync(`${ROOT}/dist/cli/main.js`)) throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` (scripts/test.sh does) before the CLI tests');
  const r = spawnSync(process.execPath, [`${ROOT}/bin/kvlab.js`, ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
