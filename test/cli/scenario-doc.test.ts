import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioFieldTable } from '../../cli/commands/scenario-doc.js';
import { ROOT } from '../helpers.js';

describe('docs/scenarios.md', () => {
  it('embeds the current field table (regenerate with `npx kvlab scenario-doc --write`)', () => {
    const doc = readFileSync(join(ROOT, 'docs/scenarios.md'), 'utf8');
    const m = /<!-- scenario-fields:begin -->\n([\s\S]*?)\n<!-- scenario-fields:end -->/.exec(doc);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(scenarioFieldTable());
  });

  it('every shipped scenario is valid', async () => {
    const { readdirSync } = await import('node:fs');
    const { loadScenario } = await import('../../cli/load.js');
    for (const f of readdirSync(join(ROOT, 'scenarios'))) if (/\.(json|ya?ml)$/.test(f)) expect(() => loadScenario(join(ROOT, 'scenarios', f)), f).not.toThrow();
  });
});
