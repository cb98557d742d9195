import { readFileSync, readdirSync } from 'node:fs';

// Reported next to req/s: the server's own CPU time per request separates its
// cost from time spent waiting for a CPU on a shared machine (both still swing
// when the machine is overloaded). Linux only (/proc); elsewhere it reads NaN.

const USER_HZ = 100;

/** CPU seconds (user + system) used so far by process pid and its child processes (cluster workers). */
export function processTreeCpuSeconds(pid: number): number {
  let entries: string[];
  try { entries = readdirSync('/proc'); } catch { return NaN; }
  let total = 0;
  for (const p of entries) {
    if (!/^\d+$/.test(p)) continue;
    let stat: string;
    try { stat = readFileSync(`/proc/${p}/stat`, 'utf8'); } catch { continue; }
    // Fields after "(comm)": state, ppid, …, utime (14th field overall), stime (15th).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(p) === pid || Number(f[1]) === pid) total += (Number(f[11]) + Number(f[12])) / USER_HZ;
  }
  return total;
}
