/**
 * A per-epoch progress bar: batches done of total, running mean loss, samples per second and ETA.
 * On a TTY it rewrites one line in place (at most every `redrawMs`); on any other stream (a log
 * file, CI) it prints a plain line each time another 10% of the batches is done, so logs stay short.
 * finish() prints the final line in both cases.
 */

/** The part of a writable stream the bar uses; process.stdout and process.stderr qualify. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of ProgressBar. */
export interface ProgressOptions {
  /** Batches in the epoch. */
  total: number;
  /** Current epoch and epoch count, shown as "epoch 3/10". */
  epoch?: number;
  epochs?: number;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Bar width in characters on a TTY; default 24. */
  width?: number;
  /** Percent step between plain lines when not a TTY; default 10. */
  plainEveryPct?: number;
  /** Minimum milliseconds between TTY redraws; default 100. */
  redrawMs?: number;
  /** Clock in milliseconds; injectable for tests. Default performance.now. */
  now?: () => number;
  /** Unit of the rate; default 'img'. */
  unit?: string;
}

/** m:ss, or h:mm:ss from one hour. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** Progress of one epoch; call tick() after each batch and finish() after the last. */
export class ProgressBar {
  readonly total: number;
  done = 0;
  samples = 0;
  private lossSum = 0;
  private lossCount = 0;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly opts: Required<Pick<ProgressOptions, 'width' | 'plainEveryPct' | 'redrawMs' | 'now' | 'unit'>> & ProgressOptions;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastPlainBucket = 0;
  private finished = false;

  /** Starts the clock; validates `total`. */
  constructor(opts: ProgressOptions) {
    if (!Number.isSafeInteger(opts.total) || opts.total <= 0) throw new Error(`ProgressBar: total must be a positive integer, got ${opts.total}`);
    const { width = 24, plainEveryPct = 10, redrawMs = 100, now = () => performance.now(), unit = 'img' } = opts;
    if (!(plainEveryPct > 0 && plainEveryPct <= 100)) throw new Error(`ProgressBar: plainEveryPct must be in (0, 100], got ${plainEveryPct}`);
    this.opts = { ...opts, width, plainEveryPct, redrawMs, now, unit };
    this.total = opts.total;
    this.stream = opts.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.start = now();
  }

  /** Records one finished batch of `samples` items and its loss (NaN or omitted: not averaged). */
  tick(samples: number, loss?: number): void {
    if (this.finished) throw new Error('ProgressBar: tick after finish');
    this.done = Math.min(this.done + 1, this.total);
    this.samples += samples;
    if (loss !== undefined && Number.isFinite(loss)) {
      this.lossSum += loss;
      this.lossCount++;
    }
    this.render();
  }

  /** Mean loss of the batches so far (NaN before the first). */
  get meanLoss(): number {
    return this.lossCount === 0 ? NaN : this.lossSum / this.lossCount;
  }

  /** The status line for the current state, without control characters. */
  line(): string {
    const { epoch, epochs, width, unit } = this.opts;
    const elapsed = (this.opts.now() - this.start) / 1000;
    const parts: string[] = [];
    if (epoch !== undefined) parts.push(`epoch ${epoch}${epochs !== undefined ? `/${epochs}` : ''}`);
    const frac = this.done / this.total;
    if (this.tty) {
      const filled = Math.floor(frac * width);
      parts.push(`[${'='.repeat(filled)}${filled < width ? '>' : ''}${' '.repeat(Math.max(0, width - filled - 1))}]`);
    }
    const digits = String(this.total).length;
    parts.push(`${String(this.done).padStart(digits)}/${this.total} ${String(Math.floor(frac * 100)).padStart(3)}%`);
    if (this.lossCount > 0) parts.push(`loss ${this.meanLoss.toFixed(4)}`);
    if (elapsed > 0 && this.samples > 0) parts.push(`${Math.round(this.samples / elapsed)} ${unit}/s`);
    if (this.done < this.total) {
      parts.push(`ETA ${this.done > 0 ? formatDuration((elapsed / this.done) * (this.total - this.done)) : '?'}`);
    } else {
      parts.push(`${formatDuration(elapsed)}`);
    }
    return parts.join('  ');
  }

  /**
   * Prints the final line, with `extra` (e.g. validation metrics) appended, and ends it. Ticks never
   * draw the completed state themselves, so that the last line can carry those metrics.
   */
  finish(extra?: string): void {
    if (this.finished) return;
    this.finished = true;
    const text = this.line() + (extra ? `  ${extra}` : '');
    this.stream.write(this.tty ? `\r${this.fit(text)}\x1b[K\n` : `${text}\n`);
  }

  private fit(text: string): string {
    const columns = this.stream.columns;
    return columns && text.length >= columns ? text.slice(0, columns - 1) : text;
  }

  private render(): void {
    if (this.done === this.total) return;
    if (this.tty) {
      const t = this.opts.now();
      if (t - this.lastDraw < this.opts.redrawMs) return;
      this.lastDraw = t;
      this.stream.write(`\r${this.fit(this.line())}\x1b[K`);
      return;
    }
    const bucket = Math.floor((this.done * 100) / this.total / this.opts.plainEveryPct + 1e-9);
    if (bucket > this.lastPlainBucket) {
      this.lastPlainBucket = bucket;
      this.stream.write(`${this.line()}\n`);
    }
  }
}
