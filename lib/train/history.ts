/**
 * Per-epoch training metrics. Each record carries the standard keys (trainLoss, trainAcc, valLoss,
 * valAcc, lr, time in seconds) when they were measured, plus any other numeric key. Epochs are
 * numbered from 1. A missing or NaN value is kept as NaN; JSON stores it as null.
 */

/** The metrics of one epoch. */
export interface EpochRecord {
  epoch: number;
  trainLoss?: number;
  trainAcc?: number;
  valLoss?: number;
  valAcc?: number;
  lr?: number;
  time?: number;
  [key: string]: number | undefined;
}

/** The serialized form written by History.toJSON. */
export interface HistoryJSON {
  version: 1;
  records: Array<Record<string, number | null>>;
}

function checkRecordValues(record: Record<string, unknown>, where: string): void {
  for (const [key, value] of Object.entries(record)) {
    if (typeof value !== 'number' && value !== undefined) throw new Error(`${where}: metric '${key}' must be a number, got ${JSON.stringify(value)}`);
  }
}

/** An append-only list of epoch records with series extraction and JSON round trip. */
export class History {
  readonly records: EpochRecord[] = [];

  /**
   * Appends one epoch. `epoch` defaults to the previous epoch + 1 (1 for the first) and must
   * increase; values must be numbers.
   */
  push(metrics: Omit<EpochRecord, 'epoch'> & { epoch?: number }): EpochRecord {
    checkRecordValues(metrics, 'History.push');
    const previous = this.records.at(-1)?.epoch ?? 0;
    const epoch = metrics.epoch ?? previous + 1;
    if (!Number.isSafeInteger(epoch) || epoch <= previous) {
      throw new Error(`History.push: epoch must be an integer greater than ${previous}, got ${epoch}`);
    }
    const record: EpochRecord = { ...metrics, epoch };
    this.records.push(record);
    return record;
  }

  /** The number of epochs recorded. */
  get length(): number {
    return this.records.length;
  }

  /** The latest record, if any. */
  last(): EpochRecord | undefined {
    return this.records.at(-1);
  }

  /** The epoch numbers, in order. */
  epochs(): number[] {
    return this.records.map((r) => r.epoch);
  }

  /** The values of `key` per epoch, NaN where an epoch lacks it. */
  series(key: string): number[] {
    return this.records.map((r) => r[key] ?? NaN);
  }

  /** Whether any epoch has a non-NaN value for `key`. */
  has(key: string): boolean {
    return this.records.some((r) => r[key] !== undefined && !Number.isNaN(r[key]));
  }

  /** Every metric key present in some record, besides `epoch`, in first-seen order. */
  keys(): string[] {
    const keys = new Set<string>();
    for (const r of this.records) for (const k of Object.keys(r)) if (k !== 'epoch') keys.add(k);
    return [...keys];
  }

  /** The epoch with the lowest ('min') or highest ('max') non-NaN value of `key`; the earliest wins ties. */
  best(key: string, mode: 'min' | 'max' = 'min'): { epoch: number; value: number } | undefined {
    let found: { epoch: number; value: number } | undefined;
    for (const r of this.records) {
      const v = r[key];
      if (v === undefined || Number.isNaN(v)) continue;
      if (!found || (mode === 'min' ? v < found.value : v > found.value)) found = { epoch: r.epoch, value: v };
    }
    return found;
  }

  /** A JSON-safe copy: NaN and ±Infinity become null, as JSON.stringify would write them. */
  toJSON(): HistoryJSON {
    return {
      version: 1,
      records: this.records.map((r) =>
        Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Number.isFinite(v) ? v! : null])),
      ),
    };
  }

  /** Rebuilds a History from toJSON output (or its parsed JSON text); null values come back as NaN. */
  static fromJSON(json: unknown): History {
    const data = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
    if (typeof data !== 'object' || data === null || (data as HistoryJSON).version !== 1 || !Array.isArray((data as HistoryJSON).records)) {
      throw new Error('History.fromJSON: expected { version: 1, records: [...] }');
    }
    const history = new History();
    (data as HistoryJSON).records.forEach((raw, i) => {
      if (typeof raw !== 'object' || raw === null) throw new Error(`History.fromJSON: record ${i} is not an object`);
      const record = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v === null ? NaN : v])) as EpochRecord;
      checkRecordValues(record, `History.fromJSON: record ${i}`);
      history.push(record);
    });
    return history;
  }
}
