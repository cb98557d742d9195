/**
 * Per-tenant key secrets, kept outside the database (TRESOR_TENANT_KEY_DIR,
 * beside the root key file): one 32-byte file per tenant, `<tenant id>.key`,
 * mode 0600. A tenant's key-encryption key is derived from the root key and
 * this secret (key-provider.ts, tenantKek), so deleting the file makes every
 * copy of the tenant's wrapped keys useless: the database, its backups and
 * its replicas alike. Destruction leaves `<tenant id>.destroyed` behind (a
 * date, nothing secret), so a restored copy of the tenant is told apart from
 * a node that simply lacks the shared directory.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createExclusive, fsyncDir } from './key-files.js';
import { canonicalId } from './encoding.js';
import { KEY_BYTES } from './envelope.js';

export type TenantSecretState = { state: 'present'; secret: Buffer } | { state: 'destroyed'; at: string } | { state: 'missing' };

export interface TenantSecretStore {
  readonly dir: string;
  /** The tenant's secret, or why there is none. Never creates one. */
  read(tenantId: string): TenantSecretState;
  /** The secret, created (whole or not at all, fsync of file and directory) when absent; null when it was destroyed. */
  ensure(tenantId: string): Buffer | null;
  /** Overwrites, fsyncs and unlinks the secret, after recording the destruction; idempotent. */
  destroy(tenantId: string, at: Date): void;
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

function readSecret(path: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new Error(`tenant key file ${path} allows group/other access; run: chmod 600 ${path}`);
    }
    const buf = Buffer.alloc(KEY_BYTES);
    // A file shorter than a key is one a crash cut before its fsync: unusable, never silently padded.
    if (!st.isFile() || st.size !== KEY_BYTES || readSync(fd, buf, 0, KEY_BYTES, 0) !== KEY_BYTES) {
      throw new Error(`tenant key file ${path} must be a regular file of exactly ${KEY_BYTES} bytes`);
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

function readTombstone(path: string): string | null {
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(64);
      return buf.subarray(0, readSync(fd, buf, 0, 64, 0)).toString('utf8').trim();
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
}

export function openTenantSecretStore(dir: string): TenantSecretStore {
  const secretPath = (tenantId: string) => join(dir, `${canonicalId(tenantId, 'tenant id')}.key`);
  const tombstonePath = (tenantId: string) => join(dir, `${canonicalId(tenantId, 'tenant id')}.destroyed`);
  let made = false;
  const makeDir = () => {
    if (made) return;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    made = true;
  };

  function read(tenantId: string): TenantSecretState {
    // The tombstone wins over a secret a crash left behind mid-destruction.
    const at = readTombstone(tombstonePath(tenantId));
    if (at !== null) return { state: 'destroyed', at };
    const secret = readSecret(secretPath(tenantId));
    return secret ? { state: 'present', secret } : { state: 'missing' };
  }

  return {
    dir,
    read,
    ensure(tenantId) {
      const now = read(tenantId);
      if (now.state === 'present') return now.secret;
      if (now.state === 'destroyed') return null;
      makeDir();
      // Two processes may race: the link lets one win, the other reads the winner's file.
      if (createExclusive(secretPath(tenantId), randomBytes(KEY_BYTES))) fsyncDir(dir);
      const after = read(tenantId);
      return after.state === 'present' ? after.secret : null;
    },
    destroy(tenantId, at) {
      makeDir();
      if (createExclusive(tombstonePath(tenantId), Buffer.from(at.toISOString() + '\n'))) fsyncDir(dir);
      const path = secretPath(tenantId);
      let fd: number;
      try {
        fd = openSync(path, 'r+');
      } catch (err) {
        if (errCode(err) === 'ENOENT') return;
        throw err;
      }
      try {
        // Overwrite before unlinking, so the bytes do not linger in a block the file system frees later.
        writeSync(fd, randomBytes(KEY_BYTES), 0, KEY_BYTES, 0);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      unlinkSync(path);
      fsyncDir(dir);
    },
  };
}
