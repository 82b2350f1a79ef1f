import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { SchemaError } from '../src/kv/schema.js';
import { parseScenario, type Scenario } from '../sim/scenario.js';
import { InputError } from './errors.js';

/** Reads a text file, or throws an InputError naming it. */
export function readText(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new InputError(file, '', 'no such file');
  }
  if (st.isDirectory()) throw new InputError(file, '', 'is a directory, expected a file');
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, '', `cannot read: ${(e as Error).message}`);
  }
}

/** Parses JSON, or YAML when the file name says so, into a plain value. */
export function parseDocument(file: string, text: string): unknown {
  if (/\.ya?ml$/i.test(file)) {
    try {
      return parseYaml(text);
    } catch (e) {
      if (e instanceof YAMLParseError) {
        const line = e.linePos?.[0]?.line;
        throw new InputError(file, line === undefined ? '' : `line ${line}`, `malformed YAML: ${e.message.split('\n')[0]}`);
      }
      throw e;
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : undefined;
    throw new InputError(file, line === undefined ? '' : `line ${line}`, `malformed JSON: ${msg.replace(/^JSON\.parse: /, '')}`);
  }
}

/** Loads and validates a scenario file. */
export function loadScenario(file: string): Scenario {
  const raw = parseDocument(file, readText(file));
  try {
    return parseScenario(raw);
  } catch (e) {
    if (e instanceof SchemaError) throw new InputError(file, e.path === '' ? '(top level)' : e.path, e.reason);
    throw e;
  }
}
