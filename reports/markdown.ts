/**
 * Markdown building blocks for report pages: a page builder, tables, number formatting. Pure
 * string functions — a report's page is a function of its (deterministic) data, except the
 * "measured on this machine" section it adds last.
 */

export type Align = 'left' | 'right';

/** A markdown table; numbers are right-aligned unless `align` says otherwise. */
export function mdTable(headers: string[], rows: (string | number)[][], align?: Align[]): string {
  const al = headers.map((_, i) => align?.[i] ?? (rows.every((r) => typeof r[i] === 'number' || /^[-+]?[\d.,]+\s*(×|%|µs|ns|ms|M|k)?$/.test(String(r[i]))) ? 'right' : 'left'));
  const esc = (v: string | number) => String(v).replace(/\|/g, '\\|');
  const line = (cells: (string | number)[]) => `| ${cells.map(esc).join(' | ')} |`;
  const sep = `| ${al.map((a) => (a === 'right' ? '---:' : '---')).join(' | ')} |`;
  return [line(headers), sep, ...rows.map(line)].join('\n');
}

/** Millions of operations per second, 2 decimals: 3172414 → "3.17". */
export function fmtMops(opsPerSecond: number): string {
  return (opsPerSecond / 1e6).toFixed(2);
}

/** Nanoseconds as microseconds, 2 decimals: 9983 → "9.98". */
export function fmtUs(ns: number): string {
  return (ns / 1000).toFixed(2);
}

/** A ratio: 0.984 → "0.98×". */
export function fmtRatio(x: number): string {
  return `${x.toFixed(2)}×`;
}

export function fmtPct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** An ordered markdown page. */
export class Page {
  private readonly parts: string[] = [];

  h1(s: string): this {
    return this.add(`# ${s}`);
  }

  h2(s: string): this {
    return this.add(`## ${s}`);
  }

  h3(s: string): this {
    return this.add(`### ${s}`);
  }

  p(...lines: string[]): this {
    return this.add(lines.join('\n'));
  }

  bullets(items: string[]): this {
    return this.add(items.map((i) => `- ${i}`).join('\n'));
  }

  code(text: string, lang = ''): this {
    return this.add(`\`\`\`${lang}\n${text}\n\`\`\``);
  }

  table(headers: string[], rows: (string | number)[][], align?: Align[]): this {
    return this.add(mdTable(headers, rows, align));
  }

  image(alt: string, file: string): this {
    return this.add(`![${alt}](${file})`);
  }

  rule(): this {
    return this.add('---');
  }

  add(block: string): this {
    this.parts.push(block);
    return this;
  }

  toString(): string {
    return `${this.parts.join('\n\n')}\n`;
  }
}
