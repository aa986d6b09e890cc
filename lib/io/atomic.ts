/**
 * Crash-safe file replacement. A reader of the target path sees either the previous complete file
 * or the new complete file, never a prefix: the bytes go to a temporary file in the same directory
 * (so the rename cannot cross file systems), are flushed to disk, and only then renamed over the
 * target; the directory is flushed last so the rename itself survives a power loss.
 *
 * Reads and writes go through the file in pieces of at most `ioChunk.bytes`: one fs call cannot move
 * more than 2 GiB, and files (checkpoints, optimizer states) may be larger.
 */
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The largest single read or write; below Node's 2 GiB per call. Tests shrink it to exercise the loops. */
export const ioChunk = { bytes: 256 * 1024 * 1024 };

const FS_REASONS: Record<string, string> = {
  EISDIR: 'it is a directory',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
};

/**
 * An Error for a failed file system call that names the public op, what it was doing and the path
 * ("saveFile: cannot write 'runs/x': it is a directory"); keeps the errno code and the original as cause.
 */
export function fsError(op: string, verb: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = (code !== undefined && FS_REASONS[code]) || (err as Error).message;
  const error = new Error(`${op}: cannot ${verb} '${path}': ${reason}`, { cause: err }) as NodeJS.ErrnoException;
  if (code !== undefined) error.code = code;
  return error;
}

/** The prefix and suffix of the temporary names used while writing `path` (the middle is `<pid>.<12 hex digits>`). */
function tempAffixes(path: string): { prefix: string; suffix: string } {
  return { prefix: `.${basename(path)}.`, suffix: '.tmp' };
}

/** The temporary name used while writing `path`; a crash can leave such files behind, never a torn target. */
function tempPathFor(path: string): string {
  const { prefix, suffix } = tempAffixes(path);
  return join(dirname(path), `${prefix}${process.pid}.${randomBytes(6).toString('hex')}${suffix}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files that an earlier write of `path` left when its process died (SIGKILL, power
 * loss). A temp name carries its writer's pid, and only files whose writer no longer runs are removed,
 * so a save in progress in another live process keeps its file; a recycled pid only delays the cleanup
 * to a later call. (An age rule could delete the file of a slow live writer.) Best effort: a folder
 * that cannot be listed or written is left as it is.
 */
export async function removeStaleTempFiles(path: string): Promise<void> {
  const { prefix, suffix } = tempAffixes(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const match = /^(\d+)\.[0-9a-f]{12}$/.exec(name.slice(prefix.length, name.length - suffix.length));
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processIsAlive(pid)) continue;
    await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}

/**
 * Flushes a directory entry to disk. Platforms that cannot open or fsync a directory (Windows) do
 * not need it for rename durability, so their refusal is not an error.
 */
async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch (err) {
    if (process.platform === 'win32') return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR') throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Writes all of `data` at the handle's current position, in windows of at most ioChunk.bytes (a
 * tensor's bytes may be more than one Uint8Array or one fs call can span).
 */
async function writeAll(handle: FileHandle, data: ArrayBufferView): Promise<void> {
  let written = 0;
  while (written < data.byteLength) {
    const window = new Uint8Array(data.buffer, data.byteOffset + written, Math.min(data.byteLength - written, ioChunk.bytes));
    const { bytesWritten } = await handle.write(window);
    written += bytesWritten;
  }
}

/**
 * Fills `into` with the file's bytes from `position`, in pieces of at most ioChunk.bytes. Returns the
 * number of bytes read, less than `into.byteLength` only when the file ends first.
 */
export async function readInto(handle: FileHandle, into: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < into.byteLength) {
    const { bytesRead } = await handle.read(into, filled, Math.min(into.byteLength - filled, ioChunk.bytes), position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/**
 * Writes `data` (bytes, or pieces written one after another) to `path` atomically: temp file in the
 * same directory, write, fsync, rename over the target, fsync the directory. On failure the temporary
 * file is removed and the target is untouched; errors name `op` and the path. A process killed
 * mid-write may leave a `.<name>.<pid>.<hex>.tmp` file beside the target; the next write of the
 * same path removes it once that process is gone.
 */
export async function writeFileAtomic(path: string, data: ArrayBufferView | readonly ArrayBufferView[], op = 'writeFileAtomic'): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${op}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  await removeStaleTempFiles(path);
  const tmp = tempPathFor(path);
  let handle;
  try {
    handle = await open(tmp, 'wx', 0o644);
  } catch (err) {
    throw fsError(op, 'write', path, err);
  }
  try {
    try {
      for (const piece of ArrayBuffer.isView(data) ? [data] : data) await writeAll(handle, piece);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw fsError(op, 'write', path, err);
  }
  try {
    await fsyncDirectory(dirname(path));
  } catch (err) {
    throw fsError(op, 'flush the folder of', path, err);
  }
}
