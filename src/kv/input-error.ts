/**
 * Bad input: a malformed file or flag. The command line prints it as one line
 * `kvlab: <file>: <field>: <reason>` on stderr and exits with status 2 — never a stack trace.
 * (Here rather than in cli/ because parsers in src/ raise it too.)
 */
export class InputError extends Error {
  constructor(
    /** The file (or "argv" for flags). */
    readonly file: string,
    /** The field path, line number or flag name ('' when it is the whole file). */
    readonly field: string,
    readonly reason: string,
  ) {
    super([file, field, reason].filter((x) => x !== '').join(': '));
    this.name = 'InputError';
  }
}
