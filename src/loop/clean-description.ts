/**
 * The agent's one-line account of its change, made safe for a commit message and a results row:
 * the first meaningful line, markdown and "Summary:"-style labels stripped, at most 200 characters.
 * Returns "" when nothing usable is left; the caller then describes the diff instead.
 */
export function cleanDescription(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((line) => stripMarkdown(line))
    .filter((line) => line !== '');
  const line = lines.at(-1) ?? '';
  return truncate(line, 200);
}

function stripMarkdown(line: string): string {
  return line
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/^\s*(?:#{1,6}\s+|[-*+]\s+|>\s*|\d+[.)]\s+)/, '')
    .replace(/\*\*(.*?)\*\*/g, '$1')
    .replace(/__(.*?)__/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/^\s*(?:change|summary|description|edit|explain(?:ation)?|what i changed)\s*:\s*/i, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** "edit sort.js (+12 -3)": a description made from the diff when the agent gave none. */
export function describeDiff(files: readonly string[], diff: string): string {
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++')) added++;
    else if (line.startsWith('-') && !line.startsWith('---')) removed++;
  }
  const names = files.length <= 3 ? files.join(', ') : `${files.slice(0, 3).join(', ')} and ${files.length - 3} more`;
  return `edit ${names} (+${added} -${removed})`;
}
