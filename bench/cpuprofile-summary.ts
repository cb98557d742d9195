import { readFileSync } from 'node:fs';

// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, per
// package or source folder, and inclusive time of Tresor's own functions.
//   node --import tsx bench/cpuprofile-summary.ts FILE.cpuprofile [top=25]

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const short = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm:').replace(/^.*\/work\/main\//, '');

function area(url: string): string {
  if (!url) return '(native/V8)';
  const u = short(url);
  if (u.startsWith('nm:')) {
    const parts = u.slice(3).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (u.startsWith('node:')) return 'node core';
  return u.split('/').slice(0, 2).join('/');
}

/** window: only samples between fromMs and toMs after the profile started (the process start). */
export function summariseProfile(profile: Profile, top = 25, window?: { fromMs: number; toMs: number }): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (window && (at < window.fromMs * 1000 || at > window.toMs * 1000)) return;
    self.set(id, (self.get(id) ?? 0) + dt);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;

  const fnSelf = new Map<string, number>();
  const areaSelf = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const key = `${functionName || '(anonymous)'}  ${url ? `${short(url)}:${lineNumber + 1}` : ''}`;
    fnSelf.set(key, (fnSelf.get(key) ?? 0) + t);
    areaSelf.set(area(url), (areaSelf.get(area(url)) ?? 0) + t);
  }

  // Inclusive time of src/ functions (each node counted once per function key on its stack).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, t] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const { functionName, url, lineNumber } = byId.get(cur)!.callFrame;
      if (!short(url).startsWith('src/')) continue;
      const key = `${functionName || '(anonymous)'}  ${short(url)}:${lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
  }

  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `  ${pct(t)}  ${k}`);
  return [
    `profile: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / total).toFixed(0)}%); percentages are of busy time`,
    'self time by package / folder:', ...list(areaSelf, 15),
    'self time by function:', ...list(fnSelf, top),
    'inclusive time of Tresor functions (src/):', ...list(inclusive, 15),
  ].join('\n');
}

if (process.argv[1]?.endsWith('cpuprofile-summary.ts')) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpuprofile-summary.ts FILE.cpuprofile [top]');
  process.stdout.write(`${summariseProfile(JSON.parse(readFileSync(file, 'utf8')), Number(top ?? 25))}\n`);
}
