import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db, LeaderLease } from '../db/db.ts';
import { isDbUnavailable } from '../db/db.ts';
import { type Actor, systemActor } from '../access/permissions.ts';

/** What a job may log: pino's shape, with the job's system actor on every line. */
export interface JobLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface JobContext {
  actor: Actor;
  log: JobLog;
  /** True once shutdown began: a long run stops between batches. */
  stopping(): boolean;
}

/** A background job: run on the leader every `everyMs`, and at once when kicked. */
export interface Job { name: string; everyMs: number; run(ctx: JobContext): Promise<void> }

export interface JobsDeps {
  db: Pick<Db, 'leaderLock'>;
  log: JobLog;
  /** Transient failures (database unavailable, serialisation, deadlock) retried per run, with doubling waits. */
  retries: number;
  retryBaseMs: number;
}

// One advisory lock key for all of Tresor's background work: one leader runs every job.
export const LEADER_LOCK_KEY = 7310002;
const TRANSIENT_CODES = new Set(['40001', '40P01']);
export const isTransient = (err: unknown) =>
  isDbUnavailable(err) || TRANSIENT_CODES.has((err as { code?: string })?.code ?? '');

/**
 * A wait inside a job run. Not unref'd: a run under way keeps the process alive
 * (stop() waits for it anyway), and a caller awaiting idle() must not see the
 * event loop drain mid-run.
 */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Entry { job: Job; timer?: NodeJS.Timeout; running?: Promise<void>; again: boolean; lastSuccess: number }

// Background work for every node: each node asks for leadership (a PostgreSQL
// session advisory lock; the embedded store always leads) before each run, so
// when the leader's connection drops, another node takes over at its next tick.
export function createJobs({ db, log, retries, retryBaseMs }: JobsDeps) {
  const entries = new Map<string, Entry>();
  const outcomes = new Map<string, number>();
  let lease: LeaderLease | null = null;
  let stopped = false;
  const count = (job: string, outcome: string) => outcomes.set(`${job}\0${outcome}`, (outcomes.get(`${job}\0${outcome}`) ?? 0) + 1);

  async function lead(): Promise<boolean> {
    if (lease && (await lease.alive())) return true;
    if (lease) log.warn({ actor: systemActor('jobs') }, 'job leadership lost');
    lease = await db.leaderLock(LEADER_LOCK_KEY).catch((err) => {
      log.error({ err, actor: systemActor('jobs') }, 'could not ask for job leadership');
      return null;
    });
    if (lease) log.info({ actor: systemActor('jobs') }, 'this node now runs background jobs');
    return lease !== null;
  }

  async function attempt(e: Entry): Promise<void> {
    const actor = systemActor(e.job.name);
    const ctx: JobContext = { actor, stopping: () => stopped, log: {
      info: (o, m) => log.info({ ...o, actor }, m), warn: (o, m) => log.warn({ ...o, actor }, m), error: (o, m) => log.error({ ...o, actor }, m),
    } };
    for (let n = 0; ; n++) {
      try {
        await e.job.run(ctx);
        count(e.job.name, 'ok');
        e.lastSuccess = Date.now();
        return;
      } catch (err) {
        if (!isTransient(err) || n >= retries || stopped) {
          count(e.job.name, 'error');
          ctx.log.error({ err }, `job ${e.job.name} failed; it runs again at its next tick`);
          return;
        }
        count(e.job.name, 'retry');
        await sleep(retryBaseMs * 2 ** n);
      }
    }
  }

  async function runWhileKicked(e: Entry): Promise<void> {
    do {
      e.again = false;
      if (stopped) return;
      if (await lead()) await attempt(e);
      else count(e.job.name, 'not_leader');
    } while (e.again);
  }

  /** Runs a job now (or once more right after the run under way): a kick is never lost. */
  function kick(name: string): Promise<void> {
    const e = entries.get(name);
    if (!e || stopped) return Promise.resolve();
    if (e.running) { e.again = true; return e.running; }
    e.running = runWhileKicked(e).finally(() => { e.running = undefined; });
    return e.running;
  }

  return {
    /** Adding a job is one call: a name, a period and a run function. */
    add(job: Job) { entries.set(job.name, { job, again: false, lastSuccess: 0 }); },
    kick,
    /** Starts the timers (a server; not the CLI) and runs every job once, so work left by a stopped node resumes. */
    start() {
      for (const e of entries.values()) {
        e.timer = setInterval(() => void kick(e.job.name), e.job.everyMs);
        e.timer.unref();
        void kick(e.job.name);
      }
    },
    /** Resolves when no run of `name` (or of any job) is under way. */
    async idle(name?: string) {
      for (;;) {
        const busy = [...entries.values()].filter((e) => e.running && (!name || e.job.name === name));
        if (!busy.length) return;
        await Promise.all(busy.map((e) => e.running));
      }
    },
    async stop() {
      stopped = true;
      for (const e of entries.values()) clearInterval(e.timer);
      await Promise.all([...entries.values()].map((e) => e.running));
      await lease?.release();
      lease = null;
    },
    registerMetrics(registry: Registry) {
      new Counter({ name: 'tresor_job_runs_total', help: 'Background job runs by outcome', labelNames: ['job', 'outcome'], registers: [registry],
        collect() {
          this.reset();
          for (const [k, n] of outcomes) { const [job, outcome] = k.split('\0'); this.inc({ job, outcome }, n); }
        } });
      new Gauge({ name: 'tresor_job_leader', help: '1 when this process holds the background-job leader lock', registers: [registry],
        collect() { this.set(lease ? 1 : 0); } });
      new Gauge({ name: 'tresor_job_last_success_timestamp_seconds', help: 'When each job last finished without error', labelNames: ['job'],
        registers: [registry], collect() {
          for (const e of entries.values()) if (e.lastSuccess) this.set({ job: e.job.name }, e.lastSuccess / 1000);
        } });
    },
  };
}

export type Jobs = ReturnType<typeof createJobs>;
