import { describe, expect, it } from 'vitest';
import { formatDuration, ProgressBar, type ProgressStream } from '../../lib/train/progress.js';

function capture(isTTY: boolean, columns?: number): ProgressStream & { text: string } {
  const stream = { isTTY, columns, text: '', write(s: string) { stream.text += s; return true; } };
  return stream;
}

/** A clock advanced by hand, in milliseconds. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('ProgressBar', () => {
  it('prints one plain line per 10% when not a TTY, then a final line with extra text', () => {
    const out = capture(false);
    const c = clock();
    const bar = new ProgressBar({ total: 25, epoch: 2, epochs: 5, stream: out, now: c.now });
    for (let i = 0; i < 25; i++) {
      c.advance(100);
      bar.tick(32, 2 - i * 0.05);
    }
    bar.finish('val_loss 0.9000');
    const lines = out.text.trimEnd().split('\n');
    expect(out.text).not.toContain('\r');
    expect(out.text).not.toContain('\x1b');
    // 10% steps of 25 batches: 3, 5, 8, 10, 13, 15, 18, 20, 23, then the final line.
    expect(lines.map((l) => l.match(/ (\d+)\/25 /)![1])).toEqual(['3', '5', '8', '10', '13', '15', '18', '20', '23', '25']);
    expect(lines[0]).toBe('epoch 2/5   3/25  12%  loss 1.9500  320 img/s  ETA 0:02');
    expect(lines.at(-1)).toBe('epoch 2/5  25/25 100%  loss 1.4000  320 img/s  0:03  val_loss 0.9000');
  });

  it('rewrites one line on a TTY, throttled, and ends it on finish', () => {
    const out = capture(true, 200);
    const c = clock();
    const bar = new ProgressBar({ total: 10, stream: out, now: c.now, width: 10, redrawMs: 100 });
    for (let i = 0; i < 10; i++) {
      c.advance(60);
      bar.tick(100, 0.5);
    }
    bar.finish();
    const frames = out.text.split('\r').filter(Boolean);
    // Redraws at 60 ms (first), then whenever 100 ms have passed: 180, 300, 420, 540; the finish frame.
    expect(frames).toHaveLength(6);
    expect(frames.slice(0, -1).every((f) => f.endsWith('\x1b[K') && !f.includes('\n'))).toBe(true);
    expect(frames[0]).toBe('[=>        ]   1/10  10%  loss 0.5000  1667 img/s  ETA 0:01\x1b[K');
    expect(frames.at(-1)).toBe('[==========]  10/10 100%  loss 0.5000  1667 img/s  0:01\x1b[K\n');
    expect(out.text.split('\n')).toHaveLength(2);
  });

  it('truncates to the terminal width and survives missing losses', () => {
    const out = capture(true, 30);
    const bar = new ProgressBar({ total: 3, stream: out, redrawMs: 0 });
    bar.tick(1);
    bar.tick(1, NaN);
    expect(bar.meanLoss).toBeNaN();
    for (const frame of out.text.split('\r').filter(Boolean)) expect(frame.replace('\x1b[K', '').length).toBeLessThan(30);
    bar.finish();
    expect(() => bar.tick(1)).toThrow('ProgressBar: tick after finish');
  });

  it('validates total and formats durations', () => {
    expect(() => new ProgressBar({ total: 0, stream: capture(false) })).toThrow('ProgressBar: total must be a positive integer, got 0');
    expect(formatDuration(5)).toBe('0:05');
    expect(formatDuration(125.4)).toBe('2:05');
    expect(formatDuration(3 * 3600 + 61)).toBe('3:01:01');
    expect(formatDuration(NaN)).toBe('?');
  });
});
