import { RequestError } from '../errors.ts';

export type NdjsonLine = { line: number; text: string } | { line: number; tooLong: true };

const NL = 0x0a;

/**
 * Splits a byte stream into lines without buffering the whole body: memory is
 * bounded by maxLineBytes, and the stream as a whole by maxTotalBytes (413).
 * A line over maxLineBytes is reported (and skipped), not held in memory.
 */
export async function* ndjsonLines(stream: AsyncIterable<Buffer | string>, opts: { maxLineBytes: number; maxTotalBytes: number }): AsyncGenerator<NdjsonLine> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let skipping = false;
  let total = 0;
  let line = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buf.length;
    if (total > opts.maxTotalBytes) throw new RequestError('request.body_too_large', `The import is larger than ${opts.maxTotalBytes} bytes; lines before the limit were processed`);
    let start = 0;
    for (let nl = buf.indexOf(NL, start); nl !== -1; nl = buf.indexOf(NL, start)) {
      line++;
      if (skipping) yield { line, tooLong: true };
      else yield { line, text: Buffer.concat([...parts, buf.subarray(start, nl)]).toString('utf8') };
      parts = []; partBytes = 0; skipping = false; start = nl + 1;
    }
    if (start < buf.length && !skipping) {
      parts.push(buf.subarray(start));
      partBytes += buf.length - start;
      if (partBytes > opts.maxLineBytes) { skipping = true; parts = []; partBytes = 0; }
    }
  }
  if (skipping) yield { line: line + 1, tooLong: true };
  else if (partBytes > 0) yield { line: line + 1, text: Buffer.concat(parts).toString('utf8') };
}
