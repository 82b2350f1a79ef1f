/**
 * Shrinks a failing set to a 1-minimal one (Zeller's ddmin, simplified): a subset that still
 * fails and that passes when any single element is removed. It is not necessarily the globally
 * smallest failing subset — finding that is exponential — but every element left is needed.
 *
 * Linearizability is not monotone under removal (dropping a put can make a read unexplainable),
 * so one greedy pass is not enough: the loop ends only after a pass of single-element removals
 * against the final set changes nothing.
 */
export function minimizeFailing<T>(items: readonly T[], fails: (subset: readonly T[]) => boolean): T[] {
  let cur = items.slice();
  let chunk = Math.max(1, Math.ceil(cur.length / 2));
  for (;;) {
    let changed = false;
    for (let i = 0; i < cur.length; ) {
      const candidate = cur.slice(0, i).concat(cur.slice(i + chunk));
      if (candidate.length > 0 && fails(candidate)) {
        cur = candidate;
        changed = true;
      } else {
        i += chunk;
      }
    }
    if (chunk === 1 && !changed) return cur;
    if (!changed) chunk = Math.max(1, Math.ceil(chunk / 2));
    else chunk = Math.min(chunk, Math.max(1, Math.ceil(cur.length / 2)));
  }
}
