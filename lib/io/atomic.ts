/**
 * Crash-safe file replacement. A reader of the target path sees either the previous complete file
 * or the new complete file, never a prefix: the bytes go to a temporary file in the same directory
 * (so the rename cannot cross file systems), are flushed to disk, and only then renamed over the
 * target; the directory is flushed last so the rename itself survives a power loss.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The temporary name used while writing `path`; a crash can leave such files behind, never a torn target. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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
 * Writes `bytes` to `path` atomically: temp file in the same directory, write, fsync, rename over
 * the target, fsync the directory. On failure the temporary file is removed and the target is
 * untouched. A process killed mid-write may leave a `.<name>.<pid>.<hex>.tmp` file beside the target.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  const handle = await open(tmp, 'wx', 0o644);
  try {
    try {
      let written = 0;
      while (written < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written);
        written += bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDirectory(dirname(path));
}
