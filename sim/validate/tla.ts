/**
 * TLA+ value text for the generated trace modules (sim/validate). Pure.
 */

/** A value that renders as TLA+: string, integer, boolean, tuple, set, record. */
export type TlaValue = string | number | boolean | TlaTuple | TlaSet | TlaRecord;
export interface TlaTuple {
  tuple: TlaValue[];
}
export interface TlaSet {
  set: TlaValue[];
}
export interface TlaRecord {
  [field: string]: TlaValue;
}

export const tuple = (...xs: TlaValue[]): TlaTuple => ({ tuple: xs });
export const set = (xs: TlaValue[]): TlaSet => ({ set: xs });

function isTuple(v: TlaValue): v is TlaTuple {
  return typeof v === 'object' && Array.isArray((v as TlaTuple).tuple) && Object.keys(v).length === 1;
}
function isSet(v: TlaValue): v is TlaSet {
  return typeof v === 'object' && Array.isArray((v as TlaSet).set) && Object.keys(v).length === 1;
}

/** A TLA+ string literal (printable ASCII; anything else becomes '?'). */
export function tlaString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += '?'; // TLA+ strings have no escape for other characters
  }
  return `${out}"`;
}

export function tla(v: TlaValue): string {
  if (typeof v === 'string') return tlaString(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`TLA+ value: not an integer: ${v}`);
    return v < 0 ? `(0 - ${-v})` : String(v); // Naturals has binary minus only
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (isTuple(v)) return `<<${v.tuple.map(tla).join(', ')}>>`;
  if (isSet(v)) return `{${v.set.map(tla).join(', ')}}`;
  const fields = Object.keys(v);
  if (fields.length === 0) throw new Error('TLA+ value: an empty record');
  for (const f of fields) if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(f)) throw new Error(`TLA+ value: bad field name ${f}`);
  return `[${fields.map((f) => `${f} |-> ${tla((v as TlaRecord)[f]!)}`).join(', ')}]`;
}

/** `Name == <<\n  v1,\n  v2\n>>` with one element per line (diff-friendly, short lines). */
export function tlaSeqDef(name: string, xs: readonly TlaValue[]): string {
  if (xs.length === 0) return `${name} == <<>>`;
  return `${name} == <<\n${xs.map((x) => `  ${tla(x)}`).join(',\n')}\n>>`;
}
