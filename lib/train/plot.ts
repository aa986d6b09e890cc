/**
 * Training curves as a standalone SVG: a loss panel (train and val) beside an accuracy panel
 * (train and val), each with a frame, grid, tick values and axis titles, under a title and a shared
 * legend. Non-finite values leave gaps; an isolated point is drawn as a dot; a panel with no data
 * says so.
 */
import { History, type EpochRecord } from './history.js';

/** Options of renderCurvesSvg. */
export interface CurvesSvgOptions {
  /** Default 'Training curves'. */
  title?: string;
  /** Total size in pixels; default 960 × 400. */
  width?: number;
  height?: number;
}

const COLORS = { train: '#1f77b4', val: '#d62728' } as const;
const MARGIN = { left: 64, right: 24, top: 78, bottom: 52 } as const;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

interface Domain {
  lo: number;
  hi: number;
  ticks: number[];
  decimals: number;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Rounds for SVG coordinates, so the output stays short and stable. */
function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Tick positions at a 1, 2 or 5 × 10^k step covering [lo, hi] with about `target` ticks. */
function niceDomain(lo: number, hi: number, target: number, integer: boolean): Domain {
  const raw = (hi - lo) / Math.max(target - 1, 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = 0; first + k * step <= last + step * 1e-9; k++) ticks.push(first + k * step);
  return { lo: first, hi: last, ticks, decimals: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) };
}

/** The value domain of the finite entries of `series`, widened when it is a single value. */
function valueDomain(series: number[][]): Domain | undefined {
  const values = series.flat().filter(Number.isFinite);
  if (values.length === 0) return undefined;
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  return niceDomain(lo, hi, 6, false);
}

interface Panel {
  title: string;
  axis: string;
  series: Array<{ name: keyof typeof COLORS; values: number[] }>;
}

/** One panel at (x0, y0) of size w × h over the epochs `xs`. */
function renderPanel(panel: Panel, xs: number[], x0: number, y0: number, w: number, h: number): string {
  const out: string[] = [];
  const [xLo, xHi] = xs.length === 1 || xs[0] === xs.at(-1) ? [xs[0]! - 1, xs[0]! + 1] : [xs[0]!, xs.at(-1)!];
  const xDomain = niceDomain(xLo, xHi, Math.min(8, Math.max(3, xs.length)), true);
  const sx = (x: number) => x0 + ((x - xDomain.lo) / (xDomain.hi - xDomain.lo)) * w;
  out.push(`<text x="${px(x0 + w / 2)}" y="${px(y0 - 10)}" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${escapeXml(panel.title)}</text>`);
  out.push(`<rect x="${px(x0)}" y="${px(y0)}" width="${px(w)}" height="${px(h)}" fill="#ffffff" stroke="#444444"/>`);
  for (const t of xDomain.ticks) {
    out.push(`<line x1="${px(sx(t))}" y1="${px(y0 + h)}" x2="${px(sx(t))}" y2="${px(y0 + h + 5)}" stroke="#444444"/>`);
    out.push(`<text x="${px(sx(t))}" y="${px(y0 + h + 19)}" text-anchor="middle" font-size="12" ${FONT}>${t}</text>`);
  }
  out.push(`<text x="${px(x0 + w / 2)}" y="${px(y0 + h + 40)}" text-anchor="middle" font-size="13" ${FONT}>epoch</text>`);
  const ly = y0 + h / 2, lx = x0 - 48;
  out.push(`<text x="${px(lx)}" y="${px(ly)}" text-anchor="middle" font-size="13" transform="rotate(-90 ${px(lx)} ${px(ly)})" ${FONT}>${escapeXml(panel.axis)}</text>`);

  const present = panel.series.filter((s) => s.values.some(Number.isFinite));
  const yDomain = valueDomain(present.map((s) => s.values));
  if (!yDomain) {
    out.push(`<text x="${px(x0 + w / 2)}" y="${px(y0 + h / 2)}" text-anchor="middle" font-size="14" fill="#888888" ${FONT}>no data</text>`);
    return out.join('\n');
  }
  const sy = (y: number) => y0 + h - ((y - yDomain.lo) / (yDomain.hi - yDomain.lo)) * h;
  for (const t of yDomain.ticks) {
    out.push(`<line x1="${px(x0)}" y1="${px(sy(t))}" x2="${px(x0 + w)}" y2="${px(sy(t))}" stroke="#e5e5e5"/>`);
    out.push(`<line x1="${px(x0 - 5)}" y1="${px(sy(t))}" x2="${px(x0)}" y2="${px(sy(t))}" stroke="#444444"/>`);
    out.push(`<text x="${px(x0 - 8)}" y="${px(sy(t) + 4)}" text-anchor="end" font-size="12" ${FONT}>${t.toFixed(yDomain.decimals)}</text>`);
  }
  for (const { name, values } of present) {
    const color = COLORS[name];
    const dash = name === 'val' ? ' stroke-dasharray="6 4"' : '';
    const segments: Array<Array<[number, number]>> = [[]];
    values.forEach((v, i) => {
      if (Number.isFinite(v)) segments.at(-1)!.push([sx(xs[i]!), sy(v)]);
      else if (segments.at(-1)!.length > 0) segments.push([]);
    });
    for (const seg of segments) {
      if (seg.length > 1) {
        const d = seg.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${px(x)} ${px(y)}`).join(' ');
        out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
      }
      if (seg.length === 1 || xs.length <= 40) {
        for (const [x, y] of seg) out.push(`<circle cx="${px(x)}" cy="${px(y)}" r="3" fill="${color}"/>`);
      }
    }
  }
  return out.join('\n');
}

/**
 * Renders the loss (trainLoss, valLoss) and accuracy (trainAcc, valAcc) curves of `history` as an
 * SVG document string.
 */
export function renderCurvesSvg(history: History | EpochRecord[], opts: CurvesSvgOptions = {}): string {
  const { title = 'Training curves', width = 960, height = 400 } = opts;
  if (!(width >= 300 && height >= 200)) throw new Error(`renderCurvesSvg: width and height must be at least 300 × 200, got ${width} × ${height}`);
  const records = history instanceof History ? history.records : history;
  const xs = records.map((r) => r.epoch);
  const series = (key: string) => records.map((r) => r[key] ?? NaN);
  const panels: Panel[] = [
    { title: 'Loss', axis: 'loss', series: [{ name: 'train', values: series('trainLoss') }, { name: 'val', values: series('valLoss') }] },
    { title: 'Accuracy', axis: 'accuracy', series: [{ name: 'train', values: series('trainAcc') }, { name: 'val', values: series('valAcc') }] },
  ];
  const panelWidth = (width - 2 * (MARGIN.left + MARGIN.right)) / 2;
  const panelHeight = height - MARGIN.top - MARGIN.bottom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${px(width / 2)}" y="26" text-anchor="middle" font-size="18" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`,
  ];
  const legendX = width / 2 - 80;
  (['train', 'val'] as const).forEach((name, k) => {
    const x = legendX + k * 100;
    const dash = name === 'val' ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<line x1="${px(x)}" y1="44" x2="${px(x + 28)}" y2="44" stroke="${COLORS[name]}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${px(x + 34)}" y="48" font-size="13" ${FONT}>${name}</text>`);
  });
  if (xs.length === 0) {
    parts.push(`<text x="${px(width / 2)}" y="${px(height / 2)}" text-anchor="middle" font-size="14" fill="#888888" ${FONT}>no epochs recorded</text>`);
  } else {
    panels.forEach((panel, k) => {
      const x0 = MARGIN.left + k * (panelWidth + MARGIN.left + MARGIN.right);
      parts.push(renderPanel(panel, xs, x0, MARGIN.top, panelWidth, panelHeight));
    });
  }
  parts.push('</svg>');
  return parts.join('\n');
}
