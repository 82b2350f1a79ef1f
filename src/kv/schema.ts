/**
 * A small typed schema language for scenario files and protocol options: every field has a type,
 * a default and a doc line; unknown fields are errors; a parse error names the field path and the
 * reason, so the command line can print `file: field: reason` (and nothing else).
 */

export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path === '' ? '(top level)' : path}: ${reason}`);
    this.name = 'SchemaError';
  }
}

export interface FieldDoc {
  path: string;
  type: string;
  default?: unknown;
  doc: string;
}

export interface Schema<T> {
  /** Validates `v` (undefined = absent → default) and returns it with defaults filled in. */
  parse(v: unknown, path: string): T;
  /** A short type description for docs and errors. */
  readonly typeName: string;
  /** The default when the value is absent; undefined means the value is required. */
  readonly defaultValue: T | undefined;
  readonly doc: string;
  /** Documentation rows for this schema and everything under it. */
  describe(path: string): FieldDoc[];
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

abstract class Base<T> implements Schema<T> {
  constructor(
    readonly typeName: string,
    private readonly def: T | undefined,
    readonly doc: string,
  ) {}

  get defaultValue(): T | undefined {
    return this.def;
  }

  parse(v: unknown, path: string): T {
    if (v === undefined) {
      if (this.defaultValue === undefined) throw new SchemaError(path, 'required field is missing');
      return structuredClone(this.defaultValue);
    }
    return this.check(v, path);
  }

  protected abstract check(v: unknown, path: string): T;

  describe(path: string): FieldDoc[] {
    return [{ path, type: this.typeName, ...(this.defaultValue === undefined ? {} : { default: this.defaultValue }), doc: this.doc }];
  }
}

interface NumOpts<T> {
  min?: number;
  max?: number;
  default?: T;
  doc?: string;
}

class NumberSchema extends Base<number> {
  constructor(
    private readonly integer: boolean,
    private readonly o: NumOpts<number>,
  ) {
    super(integer ? 'integer' : 'number', o.default, o.doc ?? '');
  }

  protected check(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SchemaError(path, `expected ${this.typeName}, got ${typeOf(v)}`);
    if (this.integer && !Number.isInteger(v)) throw new SchemaError(path, `expected an integer, got ${v}`);
    if (this.o.min !== undefined && v < this.o.min) throw new SchemaError(path, `must be >= ${this.o.min}, got ${v}`);
    if (this.o.max !== undefined && v > this.o.max) throw new SchemaError(path, `must be <= ${this.o.max}, got ${v}`);
    return v;
  }

  override describe(path: string): FieldDoc[] {
    const range = this.o.min !== undefined || this.o.max !== undefined ? ` in [${this.o.min ?? '-∞'}, ${this.o.max ?? '∞'}]` : '';
    return [{ path, type: this.typeName + range, ...(this.defaultValue === undefined ? {} : { default: this.defaultValue }), doc: this.doc }];
  }
}

class BoolSchema extends Base<boolean> {
  protected check(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') throw new SchemaError(path, `expected boolean, got ${typeOf(v)}`);
    return v;
  }
}

class StringSchema<T extends string> extends Base<T> {
  constructor(
    private readonly values: readonly T[] | null,
    def: T | undefined,
    doc: string,
    private readonly pattern?: RegExp,
  ) {
    super(values === null ? 'string' : values.map((x) => JSON.stringify(x)).join(' | '), def, doc);
  }

  protected check(v: unknown, path: string): T {
    if (typeof v !== 'string') throw new SchemaError(path, `expected ${this.typeName}, got ${typeOf(v)}`);
    if (this.values !== null && !this.values.includes(v as T)) throw new SchemaError(path, `must be one of ${this.typeName}, got ${JSON.stringify(v)}`);
    if (this.pattern !== undefined && !this.pattern.test(v)) throw new SchemaError(path, `does not match ${this.pattern}`);
    return v as T;
  }
}

class ArraySchema<T> extends Base<T[]> {
  constructor(
    private readonly item: Schema<T>,
    private readonly o: { min?: number; max?: number; default?: T[]; doc?: string },
  ) {
    super(`array of ${item.typeName}`, o.default, o.doc ?? '');
  }

  protected check(v: unknown, path: string): T[] {
    if (!Array.isArray(v)) throw new SchemaError(path, `expected array, got ${typeOf(v)}`);
    if (this.o.min !== undefined && v.length < this.o.min) throw new SchemaError(path, `needs at least ${this.o.min} items, got ${v.length}`);
    if (this.o.max !== undefined && v.length > this.o.max) throw new SchemaError(path, `allows at most ${this.o.max} items, got ${v.length}`);
    return v.map((x, i) => this.item.parse(x, join(path, i)));
  }

  override describe(path: string): FieldDoc[] {
    return [...super.describe(path), ...this.item.describe(`${path}[]`).filter((d) => d.path !== `${path}[]`)];
  }
}

// `any`, not `unknown`: an `unknown` contextual type would widen the literal types of oneOf fields to string.
type Shape = Record<string, Schema<any>>;
type Infer<S extends Shape> = { [K in keyof S]: S[K] extends Schema<infer T> ? T : never };

class ObjectSchema<S extends Shape> extends Base<Infer<S>> {
  constructor(
    readonly shape: S,
    doc: string,
    private readonly optionalWhole: boolean,
  ) {
    super('object', undefined, doc);
  }

  override get defaultValue(): Infer<S> | undefined {
    if (!this.optionalWhole) return undefined;
    return this.check({}, '');
  }

  override parse(v: unknown, path: string): Infer<S> {
    if (v === undefined) {
      if (!this.optionalWhole) throw new SchemaError(path, 'required field is missing');
      return this.check({}, path);
    }
    return this.check(v, path);
  }

  protected check(v: unknown, path: string): Infer<S> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, `expected object, got ${typeOf(v)}`);
    const rec = v as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!Object.prototype.hasOwnProperty.call(this.shape, k)) {
        const known = Object.keys(this.shape);
        throw new SchemaError(join(path, k), `unknown field (known: ${known.join(', ')})`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(this.shape)) out[k] = this.shape[k]!.parse(rec[k], join(path, k));
    return out as Infer<S>;
  }

  override describe(path: string): FieldDoc[] {
    const rows: FieldDoc[] = path === '' ? [] : [{ path, type: 'object', doc: this.doc }];
    for (const k of Object.keys(this.shape)) rows.push(...this.shape[k]!.describe(join(path, k)));
    return rows;
  }
}

/** One of several object shapes, told apart by a `kind` string field. */
class TaggedSchema<T> extends Base<T> {
  constructor(
    private readonly variants: Record<string, Schema<unknown>>,
    def: T | undefined,
    doc: string,
  ) {
    super(`one of kind ${Object.keys(variants).map((k) => JSON.stringify(k)).join(' | ')}`, def, doc);
  }

  protected check(v: unknown, path: string): T {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, `expected object, got ${typeOf(v)}`);
    const kind = (v as Record<string, unknown>)['kind'];
    if (typeof kind !== 'string') throw new SchemaError(join(path, 'kind'), `required: one of ${Object.keys(this.variants).join(', ')}`);
    const variant = this.variants[kind];
    if (variant === undefined) throw new SchemaError(join(path, 'kind'), `must be one of ${Object.keys(this.variants).join(', ')}, got ${JSON.stringify(kind)}`);
    return variant.parse(v, path) as T;
  }

  override describe(path: string): FieldDoc[] {
    const rows = super.describe(path);
    for (const [k, s] of Object.entries(this.variants)) {
      for (const d of s.describe(`${path}{kind=${k}}`)) if (!d.path.endsWith('.kind')) rows.push(d);
    }
    return rows;
  }
}

class AnySchema<T> extends Base<T> {
  constructor(
    private readonly fn: (v: unknown, path: string) => T,
    name: string,
    def: T | undefined,
    doc: string,
  ) {
    super(name, def, doc);
  }

  protected check(v: unknown, path: string): T {
    return this.fn(v, path);
  }
}

export const s = {
  int: (o: NumOpts<number> = {}): Schema<number> => new NumberSchema(true, o),
  num: (o: NumOpts<number> = {}): Schema<number> => new NumberSchema(false, o),
  bool: (o: { default?: boolean; doc?: string } = {}): Schema<boolean> => new BoolSchema('boolean', o.default, o.doc ?? ''),
  str: (o: { default?: string; doc?: string; pattern?: RegExp } = {}): Schema<string> => new StringSchema<string>(null, o.default, o.doc ?? '', o.pattern),
  oneOf: <const T extends string>(values: readonly T[], o: { default?: T; doc?: string } = {}): Schema<T> => new StringSchema<T>(values, o.default, o.doc ?? ''),
  array: <T>(item: Schema<T>, o: { min?: number; max?: number; default?: T[]; doc?: string } = {}): Schema<T[]> => new ArraySchema(item, o),
  /** An object whose fields all have defaults may be omitted (`optional: true`, the default). */
  obj: <S extends Shape>(shape: S, o: { doc?: string; optional?: boolean } = {}): ObjectSchema<S> => new ObjectSchema(shape, o.doc ?? '', o.optional ?? true),
  tagged: <T>(variants: Record<string, Schema<unknown>>, o: { default?: T; doc?: string } = {}): Schema<T> => new TaggedSchema<T>(variants, o.default, o.doc ?? ''),
  custom: <T>(name: string, fn: (v: unknown, path: string) => T, o: { default?: T; doc?: string } = {}): Schema<T> => new AnySchema(fn, name, o.default, o.doc ?? ''),
};

export type { Infer };
export type SchemaType<X> = X extends Schema<infer T> ? T : never;
