import { scenarioSchema } from '../../sim/scenario.js';
import { EXIT } from '../errors.js';
import type { Io } from '../io.js';

/** The field reference of the scenario format, generated from the schema (docs/scenarios.md embeds it). */
export function scenarioFieldTable(): string {
  const rows = scenarioSchema.describe('');
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| field | type | default | meaning |', '|---|---|---|---|'];
  for (const r of rows) {
    const def = r.default === undefined ? '' : `\`${esc(JSON.stringify(r.default))}\``;
    lines.push(`| \`${esc(r.path)}\` | ${esc(r.type)} | ${def} | ${esc(r.doc)} |`);
  }
  return lines.join('\n');
}

export async function scenarioDocCommand(_args: string[], io: Io): Promise<number> {
  io.stdout(scenarioFieldTable());
  return EXIT.OK;
}
