// Key files written once: whole or not at all, and durable before use.
import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

const errCode = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

/** fsync of a directory, so a file created or unlinked in it stays so after a crash. */
export function fsyncDir(dir: string): void {
  // Directories cannot be opened for fsync on Windows; elsewhere this makes a create or unlink durable.
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/**
 * Puts `bytes` at `path` unless a file is there already (then false). Written
 * and fsynced under a temporary name first, then hard-linked into place: a
 * crash leaves either no file or a whole one, never an empty key file that
 * would stop the keys it wraps from ever being read. Two processes racing:
 * the link lets one win, the other gets false and reads the winner's file.
 */
export function createExclusive(path: string, bytes: Buffer): boolean {
  const temp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(temp);
  }
}

