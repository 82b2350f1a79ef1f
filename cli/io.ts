/** Where a command writes. Tests pass their own to capture output. */
export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  /** Whether stderr is an interactive terminal (progress bars are drawn only then). */
  readonly isTty: boolean;
}

export const processIo: Io = {
  stdout: (s) => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  stderr: (s) => void process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
  isTty: process.stderr.isTTY === true,
};

/** Wall-clock milliseconds (the CLI's own measurements only; never used inside a simulation). */
export function wallMs(): number {
  return performance.now();
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${Math.round(ns)} ns`;
}

/** A one-line progress bar redrawn in place on a terminal. */
export class Progress {
  private lastDraw = 0;
  private readonly t0 = wallMs();

  constructor(
    private readonly io: Io,
    private readonly total: number,
    private readonly label: string,
  ) {}

  update(done: number, extra = ''): void {
    if (!this.io.isTty) return;
    const now = wallMs();
    if (done < this.total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 30;
    const filled = Math.round((done / Math.max(1, this.total)) * width);
    const elapsed = (now - this.t0) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : 0;
    process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${extra} ETA ${eta.toFixed(0)}s   `);
  }

  done(): void {
    if (this.io.isTty) process.stderr.write('\r\x1b[K');
  }
}
