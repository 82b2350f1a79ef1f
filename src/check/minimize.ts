/**
 * Shrinks a failing set to a 1-minimal one (Zeller's ddmin, simplified): a subset that still
 * fails and that passes when any single element is removed. It is not necessarily the globally
 * smallest failing subset — finding that is exponential — but every element left is needed.
 *
 * Removal may cascade: `dependents(i)` lists the items that make no sense without item i (for a
 * history: the reads of the value a write wrote), and removing i removes them too, transitively.
 * So "removing one element" means removing it and everything that depends on it, and the result
 * stays closed: every kept item's dependencies are kept.
 *
 * Linearizability is not monotone under removal, so one greedy pass is not enough: the loop ends
 * only after a pass of single-element removals against the final set changes nothing.
 */
export function minimizeFailing<T>(
  items: readonly T[],
  fails: (subset: readonly T[]) => boolean,
  dependents: (index: number) => readonly number[] = () => [],
): T[] {
  const alive = new Uint8Array(items.length).fill(1);
  let cur: number[] = items.map((_, i) => i);
  /** `cur` without `chunk` and, transitively, everything depending on it. */
  const without = (chunk: readonly number[]): number[] => {
    const dead = new Uint8Array(items.length);
    const stack = [...chunk];
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (dead[i] || !alive[i]) continue;
      dead[i] = 1;
      for (const d of dependents(i)) stack.push(d);
    }
    return cur.filter((i) => !dead[i]);
  };
  const subset = (idx: readonly number[]): T[] => idx.map((i) => items[i]!);
  let chunk = Math.max(1, Math.ceil(cur.length / 2));
  for (;;) {
    let changed = false;
    for (let at = 0; at < cur.length; ) {
      const candidate = without(cur.slice(at, at + chunk));
      if (candidate.length > 0 && fails(subset(candidate))) {
        for (const i of cur) alive[i] = 0;
        for (const i of candidate) alive[i] = 1;
        // Items before `at` survive a cascade or not; restart the position where the chunk was.
        at = Math.min(at, candidate.length);
        cur = candidate;
        changed = true;
      } else {
        at += chunk;
      }
    }
    if (chunk === 1 && !changed) return subset(cur);
    if (!changed) chunk = Math.max(1, Math.ceil(chunk / 2));
    else chunk = Math.min(chunk, Math.max(1, Math.ceil(cur.length / 2)));
  }
}
