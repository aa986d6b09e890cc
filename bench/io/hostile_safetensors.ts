/**
 * Hostile safetensors headers against the reader: generates files whose header is up to `--mb` MB
 * (default 100, the format's header limit) of deep nesting, many entries, huge strings, huge numbers
 * and the like, loads each with loadFile in a child process, and reports the child's peak RSS above
 * an idle child, the time and the outcome. The acceptance bound: peak memory at most twice the file
 * plus a constant, and a few seconds, for every case.
 *
 *   npx tsx bench/io/hostile_safetensors.ts [--mb 100] [--reader path/to/safetensors.ts] [--only name,name]
 *
 * `--reader` loads another copy of the module (e.g. an older version from git) for comparison.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '100' }, reader: { type: 'string' }, only: { type: 'string' } } });
const headerBytes = Math.round(Number(values.mb) * 1024 * 1024);
const reader = resolve(values.reader ?? 'lib/io/safetensors.ts');

/** A header of about `headerBytes` bytes: `open`, then `unit` repeated to fill, then `close`. */
function fill(open: string, unit: string, close: string, separator = ''): string {
  const n = Math.max(1, Math.floor((headerBytes - open.length - close.length) / Buffer.byteLength(unit + separator)));
  return open + (unit + separator).repeat(n - 1) + unit + close;
}

function numbered(open: string, make: (k: number) => string, close: string): string {
  const parts: string[] = [];
  let size = open.length + close.length;
  for (let k = 0; ; k++) {
    const part = make(k);
    if (size + part.length + 1 > headerBytes) break;
    parts.push(part);
    size += part.length + 1;
  }
  return open + parts.join(',') + close;
}

const cases: Record<string, () => string> = {
  'deep nesting [[[...]]]': () => {
    const depth = Math.floor((headerBytes - 7) / 2);
    return '{"a":' + '['.repeat(depth) + ']'.repeat(depth) + '}';
  },
  'deep nesting {"a":{"a":...}}': () => {
    const depth = Math.floor((headerBytes - 2) / 6);
    return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  },
  'zero-size tensors': () => numbered('{', (k) => `"t${k}":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`, '}'),
  'metadata entries': () => numbered('{"__metadata__":{', (k) => `"k${k}":""`, '}}'),
  'one long shape': () => fill('{"a":{"dtype":"U8","shape":[', '0', '],"data_offsets":[0,0]}}', ','),
  'nested arrays at the allowed depth': () => fill('{"a":{"shape":[', '[]', ']}}', ','),
  'huge ASCII metadata string': () => fill('{"__metadata__":{"k":"', 'a', '"}}'),
  'huge 2-byte UTF-8 string': () => fill('{"__metadata__":{"k":"', 'é', '"}}'),
  'huge escaped string': () => fill('{"__metadata__":{"k":"', '\\u00e9', '"}}'),
  'huge key': () => fill('{"', 'k', '":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}'),
  'huge number': () => fill('{"a":{"dtype":"U8","shape":[', '9', '],"data_offsets":[0,0]}}'),
  'whitespace': () => fill('{', ' ', '}'),
  'duplicate keys late': () => numbered('{"__metadata__":{', (k) => `"k${k % 1_000_000}":""`, '}}'),
};

/** The child: loads the file with the reader and prints the outcome, peak RSS (bytes) and seconds. */
const child = `
import { readFileSync } from 'node:fs';
const { loadFile } = await import(${JSON.stringify(reader)});
const t0 = performance.now();
let outcome = 'loaded';
try { await loadFile(process.argv[1]); } catch (err) { outcome = String(err.message).slice(0, 110); }
// VmHWM, not resourceUsage().maxRSS: Linux carries maxRSS over fork and exec from the parent, which holds the file.
const peak = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
console.log(JSON.stringify({ outcome, seconds: (performance.now() - t0) / 1000, peak }));
`;

function run(path: string): { outcome: string; seconds: number; peak: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child, path], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const dir = mkdtempSync(join(tmpdir(), 'tf-hostile-'));
try {
  const empty = join(dir, 'empty.safetensors');
  writeFileSync(empty, Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20]));
  const idle = run(empty).peak;
  const mib = (n: number) => (n / 2 ** 20).toFixed(0).padStart(6);
  console.log(`reader ${reader}; an idle child peaks at ${mib(idle)} MiB; header size ~${values.mb} MB`);
  console.log(`${'case'.padEnd(36)} ${'file MiB'.padStart(8)} ${'peak-idle MiB'.padStart(13)} ${'x file'.padStart(6)} ${'s'.padStart(6)}  outcome`);
  const only = values.only?.split(',');
  for (const [name, make] of Object.entries(cases)) {
    if (only && !only.includes(name)) continue;
    const json = Buffer.from(make(), 'utf8');
    const padded = Math.ceil(json.length / 8) * 8;
    const file = Buffer.alloc(8 + padded, 0x20);
    file.writeBigUInt64LE(BigInt(padded), 0);
    json.copy(file, 8);
    const path = join(dir, 'hostile.safetensors');
    writeFileSync(path, file);
    const size = statSync(path).size;
    const r = run(path);
    const over = Math.max(0, r.peak - idle);
    console.log(`${name.padEnd(36)} ${mib(size).padStart(8)} ${mib(over).padStart(13)} ${(over / size).toFixed(2).padStart(6)} ${r.seconds.toFixed(2).padStart(6)}  ${r.outcome}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
