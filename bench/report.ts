/** The bench report: its JSON shape, the terminal tables, and the SVG chart of % of limit per op. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatCell, printTable, type CpuLimits, type E2eMode, type Timing } from './util.js';
import type { Bound } from './ops.js';
import type { GpuReport } from './gpu.js';

export interface OpRow {
  group: string;
  name: string;
  threads: number;
  bound: Bound;
  timing: Timing;
  /** GFLOP/s (compute), GB/s (memory) or µs per call (latency), from the median time. */
  rate: number;
  /** The measured limit it is put against (GFLOP/s or GB/s), absent for latency. */
  limit?: number;
  /** A C baseline's best rate, and ours from our best run, for the ratio. */
  baseline?: { label: string; rate: number; ours: number };
}

export interface DeviceRow {
  name: string;
  unit: string;
  cpu: number;
  /** A rate, or why there is none ("absent: ...", "error: ..."). */
  gpu: number | string;
}

/** One end-to-end figure; a peer that could not run it has `note` instead of numbers. */
export interface E2eCell {
  imagesPerSecond?: number;
  spread?: number;
  note?: string;
}

export interface E2eRow {
  workload: string;
  mode: E2eMode;
  threads: number;
  runners: Record<string, E2eCell>;
}

export interface Report {
  date: string;
  quick: boolean;
  machine: { cpu: string; cores: number; loadAverage: number[]; node: string; gemm: string };
  limits: { cpu: CpuLimits; cuda: string };
  ops: OpRow[];
  cpuVsGpu: DeviceRow[];
  e2e: E2eRow[];
  peers: Record<string, string>;
  /** The GPU sections beside PyTorch (bench/gpu.ts), when run. */
  gpu?: GpuReport;
  notes: string[];
  /** Wall seconds since the start at the end of each section. */
  sectionSeconds: Record<string, number>;
}

const pct = (rate: number, limit?: number): string => (limit ? `${((100 * rate) / limit).toFixed(0)}%` : '');
const unitOf = (b: Bound): string => ({ compute: 'GFLOP/s', memory: 'GB/s', latency: 'µs/call' })[b];

export function printReport(r: Report): void {
  const l = r.limits.cpu;
  console.log(`\n== machine: ${r.machine.cpu}, ${r.machine.cores} cores, load average ${r.machine.loadAverage.map((v) => v.toFixed(2)).join(' ')}; Node ${r.machine.node}; ${r.machine.gemm}`);
  console.log('\n== limits (measured)');
  printTable(['limit', '1 thread', 'all cores'], [
    [`fp32 FMA peak, GFLOP/s (${l.isa})`, l.peakPerCore, l.peakAllCores],
    ['memory copy, GB/s (read + write)', l.copyOneThread, l.copyAllThreads],
  ]);
  console.log(`GPU: ${r.limits.cuda}`);

  console.log('\n== ops (median of repeated runs; spread = (max − min) / median; % of the limit at that thread count)');
  printTable(['op', 'threads', 'median', 'spread', 'rate', 'unit', '% limit', 'baseline (best)', 'ours/baseline (best/best)'], r.ops.map((o) => [
    `${o.group}: ${o.name}`, o.threads, seconds(o.timing.median), `${(100 * o.timing.spread).toFixed(0)}%`, o.rate, unitOf(o.bound),
    pct(o.rate, o.limit), o.baseline ? `${formatCell(o.baseline.rate)} (${o.baseline.label})` : '',
    o.baseline ? `${((100 * o.baseline.ours) / o.baseline.rate).toFixed(0)}%` : '',
  ]));

  console.log('\n== CPU vs GPU (Tensor API, forward)');
  printTable(['op', 'unit', 'CPU', 'GPU', 'GPU/CPU'], r.cpuVsGpu.map((d) => [
    d.name, d.unit, d.cpu, d.gpu, typeof d.gpu === 'number' ? `${(d.gpu / d.cpu).toFixed(1)}x` : '—',
  ]));

  console.log('\n== end-to-end, images/s (median; batch 64); ratio = tensorforge / peer');
  const runners = [...new Set(r.e2e.flatMap((e) => Object.keys(e.runners)))];
  const peers = runners.filter((n) => n !== 'tensorforge');
  printTable(['workload', 'mode', 'threads', ...runners, ...peers.map((p) => `÷ ${p}`)], r.e2e.map((e) => {
    const ours = e.runners.tensorforge?.imagesPerSecond;
    return [
      e.workload, e.mode, e.threads,
      ...runners.map((n) => cellText(e.runners[n])),
      ...peers.map((p) => {
        const theirs = e.runners[p]?.imagesPerSecond;
        return ours && theirs ? `${(ours / theirs).toFixed(2)}` : '—';
      }),
    ];
  }));
  for (const [peer, what] of Object.entries(r.peers)) console.log(`  ${peer}: ${what}`);
  for (const note of r.notes) console.log(`note: ${note}`);
  console.log(`wall time at the end of each section (s): ${Object.entries(r.sectionSeconds).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

function cellText(c: E2eCell | undefined): string {
  if (!c) return '—';
  if (c.imagesPerSecond === undefined) return c.note ?? '—';
  return `${formatCell(c.imagesPerSecond)}${c.note ? ` (${c.note})` : ''}`;
}

function seconds(s: number): string {
  return s >= 1 ? `${s.toFixed(2)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(2)} ms` : `${(s * 1e6).toFixed(1)} µs`;
}

/** Horizontal bars of % of the measured limit, one per op and thread count. */
export function writeChart(path: string, r: Report): void {
  const rows = r.ops.filter((o) => o.limit);
  const barH = 14, gap = 4, left = 330, width = 420, top = 40;
  const height = top + rows.length * (barH + gap) + 30;
  const colors: Record<number, string> = { 1: '#4e79a7', 2: '#f28e2b' };
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const bars = rows.map((o, i) => {
    const y = top + i * (barH + gap);
    const p = (100 * o.rate) / o.limit!;
    const w = (Math.min(p, 100) / 100) * width;
    return `<text x="${left - 6}" y="${y + barH - 3}" text-anchor="end">${esc(`${o.group}: ${o.name}`)}</text>` +
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colors[o.threads] ?? '#76b7b2'}"/>` +
      `<text x="${left + w + 4}" y="${y + barH - 3}">${p.toFixed(0)}% (${o.threads}t)</text>`;
  });
  const grid = [25, 50, 75, 100].map((g) => {
    const x = left + (g / 100) * width;
    return `<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${height - 24}" stroke="#ddd"/><text x="${x}" y="${top - 10}" text-anchor="middle">${g}%</text>`;
  });
  const title = `tensorforge ops, % of measured limit (fp32 peak ${r.limits.cpu.peakPerCore}/${r.limits.cpu.peakAllCores} GFLOP/s, copy ${r.limits.cpu.copyOneThread}/${r.limits.cpu.copyAllThreads} GB/s at 1 thread/all cores)`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 110}" height="${height}" font-family="sans-serif" font-size="11">` +
    `<rect width="100%" height="100%" fill="white"/><text x="10" y="16" font-size="12">${esc(title)}</text>${grid.join('')}${bars.join('')}` +
    `<text x="10" y="${height - 8}">blue: 1 thread, orange: 2 threads; ${esc(r.date)}, load average ${r.machine.loadAverage.map((v) => v.toFixed(1)).join(' ')}</text></svg>\n`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}
