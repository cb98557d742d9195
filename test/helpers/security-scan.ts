// Looks for plaintext personal values in bytes that an attacker with the
// database files or a dump would hold. Matching is case-blind and also tries
// hex (pg_dump prints bytea as \x…) and base64, so a value that was merely
// encoded instead of encrypted is caught too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** ASCII-lowercased copy, so needles match in any casing. */
export function lowerAscii(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) if (out[i]! >= 0x41 && out[i]! <= 0x5a) out[i]! += 0x20;
  return out;
}

/** The forms a needle may take: itself, hex of its bytes, and its base64 at each of the three alignments. */
export function needleForms(needle: string): Buffer[] {
  const raw = Buffer.from(needle.toLowerCase(), 'utf8');
  const forms: Buffer[] = [raw, Buffer.from(raw.toString('hex'))];
  for (const original of [Buffer.from(needle, 'utf8'), raw]) {
    for (let pad = 0; pad < 3; pad++) {
      const b64 = Buffer.concat([Buffer.alloc(pad), original]).toString('base64').replace(/=+$/, '');
      // Drop the characters the padding or the unknown neighbours influence.
      const stable = b64.slice(pad ? 4 : 0, -4);
      if (stable.length >= 8) forms.push(lowerAscii(Buffer.from(stable)));
    }
  }
  return forms;
}

/** Which needles (in any of their forms) occur in the haystack. */
export function findNeedles(haystack: Buffer, needles: string[]): string[] {
  const lower = lowerAscii(haystack);
  return needles.filter((n) => needleForms(n).some((form) => lower.includes(form)));
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const st = statSync(path);
    return st.isDirectory() ? filesUnder(path) : st.isFile() ? [path] : [];
  });
}

/** Needles found in any file under dir, with the files they were found in. */
export function scanFiles(files: string[], needles: string[]): Map<string, string[]> {
  const hits = new Map<string, string[]>();
  for (const file of files) {
    for (const n of findNeedles(readFileSync(file), needles)) hits.set(n, [...(hits.get(n) ?? []), file]);
  }
  return hits;
}
