/** Output stream of the progress display. A TTY gets a bar redrawn in place. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Minimum time between two lines when the stream is not a TTY. */
  lineIntervalMs?: number;
  /** Minimum time between two redraws of the bar on a TTY. */
  redrawIntervalMs?: number;
  now?: () => number;
}

/** Shows the progress of one phase at a time. */
export interface Progress {
  /** Shows `text` and, when known, the fraction done from 0 to 1. */
  update(fraction: number | undefined, text: string): void;
  /** Shows the final state of the phase and ends its line. */
  done(text: string): void;
}

const BAR_WIDTH = 24;

/**
 * Returns a progress display for the stream: a bar redrawn in place on a
 * TTY, else a line every few seconds, because log files and CI output
 * show carriage returns as garbage.
 */
export function createProgress(
  stream: ProgressStream | undefined,
  label: string,
  options: ProgressOptions = {},
): Progress {
  if (stream === undefined) {
    return { update: () => undefined, done: () => undefined };
  }
  return stream.isTTY
    ? new TtyProgress(stream, label, options)
    : new LineProgress(stream, label, options);
}

/** Renders a bar such as `[######------------------]  25%`. */
export function renderBar(fraction: number, width = BAR_WIDTH): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * width);
  const percent = `${Math.floor(clamped * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}`;
}

class TtyProgress implements Progress {
  private lastDrawAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly options: ProgressOptions,
  ) {}

  update(fraction: number | undefined, text: string): void {
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastDrawAt < (this.options.redrawIntervalMs ?? 100)) {
      return;
    }
    this.lastDrawAt = now;
    this.draw(fraction, text);
  }

  done(text: string): void {
    this.draw(1, text);
    this.stream.write('\n');
  }

  private draw(fraction: number | undefined, text: string): void {
    const bar = fraction === undefined ? '' : `${renderBar(fraction)} `;
    const line = `${this.label} ${bar}${text}`;
    const width = (this.stream.columns ?? 80) - 1;
    // Carriage return and "erase line" redraw the bar in place.
    this.stream.write(`\r\x1b[2K${line.slice(0, width)}`);
  }
}

class LineProgress implements Progress {
  private lastLineAt: number;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly options: ProgressOptions,
  ) {
    this.lastLineAt = this.now();
  }

  update(fraction: number | undefined, text: string): void {
    const now = this.now();
    if (now - this.lastLineAt < (this.options.lineIntervalMs ?? 5_000)) {
      return;
    }
    this.lastLineAt = now;
    this.write(fraction, text);
  }

  done(text: string): void {
    this.write(1, text);
  }

  private write(fraction: number | undefined, text: string): void {
    const percent =
      fraction === undefined ? '' : ` ${Math.floor(fraction * 100)}%`;
    this.stream.write(`${this.label}${percent}: ${text}\n`);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
