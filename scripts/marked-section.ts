// Generated parts of hand-written documents sit between two HTML comments,
// `<!-- NAME:start -->` and `<!-- NAME:end -->`; everything else is left alone.

function markers(name: string) {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

/** The text between the markers (trimmed), or undefined when they are missing. */
export function readSection(text: string, name: string): string | undefined {
  const { start, end } = markers(name);
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) return undefined;
  return text.slice(from + start.length, to).trim();
}

export function replaceSection(text: string, name: string, body: string): string {
  const { start, end } = markers(name);
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`markers ${start} … ${end} not found`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}
