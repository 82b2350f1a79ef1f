import { scenarioSchema } from '../../sim/scenario.js';
import { EXIT } from '../errors.js';
import { flagBool, parseFlags } from '../flags.js';
import type { Io } from '../io.js';
import { readText } from '../load.js';
import { writeOut } from './run.js';

const DOC = 'docs/scenarios.md';
const BLOCK = /(<!-- scenario-fields:begin -->\n)[\s\S]*?(\n<!-- scenario-fields:end -->)/;

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

/** `kvlab scenario-doc [--write]`: print the table, or rewrite it inside docs/scenarios.md. */
export async function scenarioDocCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { write: 'bool' });
  if (!flagBool(p, 'write')) {
    io.stdout(scenarioFieldTable());
    return EXIT.OK;
  }
  const doc = readText(DOC);
  writeOut(DOC, doc.replace(BLOCK, (_m, a: string, b: string) => `${a}${scenarioFieldTable()}${b}`));
  io.stdout(`${DOC}: field table regenerated`);
  return EXIT.OK;
}
