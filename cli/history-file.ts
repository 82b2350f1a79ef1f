import type { History } from '../src/check/history.js';

/** A history as DESIGN.md's JSONL (init line, events, fault markers at their place). */
export function historyJsonl(h: History): string {
  const lines: string[] = [JSON.stringify({ init: h.init })];
  const faults = [...(h.faults ?? [])];
  let fi = 0;
  h.events.forEach((e, i) => {
    while (fi < faults.length && faults[fi]!.afterEvent <= i) {
      const f = faults[fi++]!;
      lines.push(JSON.stringify(f.timeNs === undefined ? { fault: f.text } : { fault: f.text, time: f.timeNs }));
    }
    lines.push(JSON.stringify(e));
  });
  while (fi < faults.length) {
    const f = faults[fi++]!;
    lines.push(JSON.stringify(f.timeNs === undefined ? { fault: f.text } : { fault: f.text, time: f.timeNs }));
  }
  return `${lines.join('\n')}\n`;
}
