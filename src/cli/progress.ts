import cliProgress from 'cli-progress';

// Progress counts work done (lines sent, records re-encrypted), never bytes.
// On a terminal it is a bar; in a CI log or a journal (stderr not a TTY) a bar
// would be thousands of carriage returns, so it is one plain line every few
// seconds instead, plus a last line when the work ends.

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export interface ProgressOptions { label: string; unit: string; total: number; everyMs: number }

export function startProgress(opts: ProgressOptions, stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? progressBar(opts, stream) : progressLines(opts, stream);
}

function progressBar({ label, unit, total }: ProgressOptions, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar({ format: `${label} |{bar}| {percentage}% {value}/{total} ${unit}`, stream, hideCursor: true },
    cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  let stopped = false;
  return {
    update: (done) => bar.update(Math.min(done, total)),
    stop: () => { if (!stopped) { stopped = true; bar.stop(); } },
  };
}

function progressLines({ label, unit, total, everyMs }: ProgressOptions, stream: NodeJS.WriteStream): Progress {
  let done = 0;
  let printed = -1;
  const line = () => {
    if (done === printed) return;
    printed = done;
    const percent = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : '';
    stream.write(`${label}: ${done}/${total} ${unit}${percent}\n`);
  };
  const timer = setInterval(line, everyMs);
  timer.unref();
  let stopped = false;
  return {
    update: (n) => { done = Math.min(n, total); },
    stop: () => { if (!stopped) { stopped = true; clearInterval(timer); line(); } },
  };
}
