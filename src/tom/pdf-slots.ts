import { RequestError, assertThat } from '../errors.ts';

/**
 * One PDF is printed at a time (each is a Chromium process); up to `queue`
 * more wait their turn, and a request beyond them is refused at once with
 * 503 `tom.pdf_busy`, so no burst of requests can start a browser each.
 */
export function pdfSlots(queue: number, retryAfterSeconds: number) {
  let busy = false;
  const waiting: Array<() => void> = [];
  return async function inTurn<T>(fn: () => Promise<T>): Promise<T> {
    if (busy) {
      assertThat(waiting.length < queue, () => new RequestError('tom.pdf_busy', `${waiting.length} PDF annexes are already waiting (TRESOR_PDF_QUEUE)`, { retryAfterSeconds }));
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    busy = true;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else busy = false;
    }
  };
}
