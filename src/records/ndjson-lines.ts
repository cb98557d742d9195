import { RequestError } from '../errors.ts';

/** A line's text, or the code it is rejected with before parsing. Blank lines are counted but never yielded. */
export type NdjsonLine = { line: number; text: string } | { line: number; code: 'import.line_too_long' | 'import.invalid_utf8' };

const NL = 0x0a;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
// fatal: invalid UTF-8 is refused instead of silently becoming U+FFFD;
// ignoreBOM: a BOM is dropped on line 1 only (below), never mid-file.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decode(line: number, bytes: Buffer): NdjsonLine | undefined {
  const body = line === 1 && bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes;
  let text: string;
  try { text = utf8.decode(body); } catch { return { line, code: 'import.invalid_utf8' }; }
  return text.trim() ? { line, text } : undefined;
}

/**
 * Splits a byte stream into lines without buffering the whole body: memory is
 * bounded by maxLineBytes, and the stream as a whole by maxTotalBytes (413).
 * A line over maxLineBytes is reported (and skipped), not held in memory.
 * Empty lines cost one indexOf each: megabytes of bare newlines pass quickly.
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
      if (skipping || partBytes + nl - start > opts.maxLineBytes) yield { line, code: 'import.line_too_long' };
      else if (nl > start || partBytes > 0) {
        const l = decode(line, partBytes ? Buffer.concat([...parts, buf.subarray(start, nl)]) : buf.subarray(start, nl));
        if (l) yield l;
      }
      parts = []; partBytes = 0; skipping = false; start = nl + 1;
    }
    if (start < buf.length && !skipping) {
      parts.push(buf.subarray(start));
      partBytes += buf.length - start;
      if (partBytes > opts.maxLineBytes) { skipping = true; parts = []; partBytes = 0; }
    }
  }
  if (skipping) yield { line: line + 1, code: 'import.line_too_long' };
  else if (partBytes > 0) {
    const l = decode(line + 1, Buffer.concat(parts));
    if (l) yield l;
  }
}
