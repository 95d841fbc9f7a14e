/**
 * A unified diff of one file, computed in process: a git process per trial costs more than the
 * diff itself for the small edits agents make. Line-based Myers diff with 3 lines of context over
 * what lies between the first and last lines that differ; a pathological input (many lines,
 * entirely different) falls back to "all removed, all added". Time and memory grow with the input,
 * so callers bound the input (trial-diff.ts does).
 */
export function unifiedDiff(file: string, before: string | null, after: string | null, context = 3): string {
  if (before === after) return '';
  const header = [
    `diff --git a/${file} b/${file}`,
    before === null ? 'new file mode 100644' : null,
    after === null ? 'deleted file mode 100644' : null,
    `--- ${before === null ? '/dev/null' : `a/${file}`}`,
    `+++ ${after === null ? '/dev/null' : `b/${file}`}`,
  ].filter((line): line is string => line !== null);
  return `${[...header, ...diffHunks(before ?? '', after ?? '', { context })].join('\n')}\n`;
}

/**
 * The hunks ("@@ ... @@" and their lines) between two texts. `firstLine` is the number of lines
 * before them when the texts are the differing part of larger files (the lines before agree).
 */
export function diffHunks(before: string, after: string, options: { context?: number; firstLine?: number } = {}): string[] {
  const context = options.context ?? 3;
  const a = splitLines(before);
  const b = splitLines(after);
  return formatHunks(diffLines(compareKeys(a), compareKeys(b), context), a, b, context, options.firstLine ?? 0);
}

/** Lines added and removed, for a one-line summary. */
export function countChangedLines(diff: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++ ')) added++;
    else if (line.startsWith('-') && !line.startsWith('--- ')) removed++;
  }
  return { added, removed };
}

interface Lines {
  lines: string[];
  /** Whether the text ends without a newline. */
  noFinalNewline: boolean;
}

/** Lines as compared: a last line without its newline differs from the same line with one. */
function compareKeys(text: Lines): string[] {
  if (!text.noFinalNewline || text.lines.length === 0) return text.lines;
  return [...text.lines.slice(0, -1), `${text.lines.at(-1)!}\u0000`];
}

function splitLines(text: string): Lines {
  if (text === '') return { lines: [], noFinalNewline: false };
  const lines = text.split('\n');
  const noFinalNewline = lines.at(-1) !== '';
  if (!noFinalNewline) lines.pop();
  return { lines, noFinalNewline };
}

type Op = { kind: ' ' | '-' | '+'; aIndex: number; bIndex: number };

// Myers keeps one frontier per edit step: at most MAX_STEPS² integers (16 MB), and its work is
// bounded by MAX_WORK comparisons; past either bound the differing part is shown replaced whole.
const MAX_WORK = 20_000_000;
const MAX_STEPS = 2000;

/**
 * The operations that turn `a` into `b`: the common first and last lines are matched directly
 * (only `context` of them are kept, the hunks never show more), Myers does the part between.
 */
function diffLines(a: readonly string[], b: readonly string[], context: number): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops: Op[] = [];
  for (let i = Math.max(0, head - context); i < head; i++) ops.push({ kind: ' ', aIndex: i, bIndex: i });
  const middle = shortestEdit(a, b, head, a.length - tail, head, b.length - tail);
  for (const op of middle) ops.push(op);
  for (let i = 0; i < Math.min(tail, context); i++) ops.push({ kind: ' ', aIndex: a.length - tail + i, bIndex: b.length - tail + i });
  return ops;
}

/** Myers' O(ND) shortest edit script between a[aLo, aHi) and b[bLo, bHi), with absolute indices. */
function shortestEdit(a: readonly string[], b: readonly string[], aLo: number, aHi: number, bLo: number, bHi: number): Op[] {
  const n = aHi - aLo;
  const m = bHi - bLo;
  const offset = n + m;
  const v = new Int32Array(2 * (n + m) + 2);
  // frontiers[d] holds v[-d..d] after step d: what the walk back needs, and no more.
  const frontiers: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= n + m; d++) {
    if (d > MAX_STEPS || d * (n + m) > MAX_WORK) break;
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[aLo + x] === b[bLo + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    if (found >= 0) break;
    frontiers.push(v.slice(offset - d, offset + d + 1));
  }
  const ops: Op[] = [];
  if (found < 0) {
    for (let i = aLo; i < aHi; i++) ops.push({ kind: '-', aIndex: i, bIndex: bLo });
    for (let j = bLo; j < bHi; j++) ops.push({ kind: '+', aIndex: aHi, bIndex: j });
    return ops;
  }
  // Walk back through the saved frontiers to recover the path.
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const previous = frontiers[d - 1]!;
    const at = (k: number): number => previous[k + d - 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) ops.push({ kind: ' ', aIndex: aLo + --x, bIndex: bLo + --y });
    if (x === prevX) ops.push({ kind: '+', aIndex: aLo + x, bIndex: bLo + --y });
    else ops.push({ kind: '-', aIndex: aLo + --x, bIndex: bLo + y });
  }
  while (x > 0 && y > 0) ops.push({ kind: ' ', aIndex: aLo + --x, bIndex: bLo + --y });
  return ops.reverse();
}

function formatHunks(ops: readonly Op[], a: Lines, b: Lines, context: number, firstLine: number): string[] {
  const out: string[] = [];
  const changes: number[] = [];
  ops.forEach((op, i) => {
    if (op.kind !== ' ') changes.push(i);
  });
  let i = 0;
  while (i < changes.length) {
    const start = Math.max(0, changes[i]! - context);
    let end = Math.min(ops.length, changes[i]! + context + 1);
    while (i + 1 < changes.length && changes[i + 1]! - context <= end) {
      i++;
      end = Math.min(ops.length, changes[i]! + context + 1);
    }
    i++;
    const slice = ops.slice(start, end);
    const aStart = slice.find((op) => op.kind !== '+')?.aIndex ?? slice[0]!.aIndex;
    const bStart = slice.find((op) => op.kind !== '-')?.bIndex ?? slice[0]!.bIndex;
    const aCount = slice.filter((op) => op.kind !== '+').length;
    const bCount = slice.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${range(firstLine + aStart, aCount)} +${range(firstLine + bStart, bCount)} @@`);
    for (const op of slice) {
      const text = op.kind === '+' ? b.lines[op.bIndex]! : a.lines[op.aIndex]!;
      out.push(`${op.kind}${text}`);
      const lastOfA = op.kind !== '+' && op.aIndex === a.lines.length - 1 && a.noFinalNewline;
      const lastOfB = op.kind !== '-' && op.bIndex === b.lines.length - 1 && b.noFinalNewline;
      if ((op.kind === '-' && lastOfA) || (op.kind === '+' && lastOfB) || (op.kind === ' ' && (lastOfA || lastOfB))) {
        out.push('\\ No newline at end of file');
      }
    }
  }
  return out;
}

function range(start: number, count: number): string {
  // Unified diff numbers lines from 1; an empty range names the line before it.
  const first = count === 0 ? start : start + 1;
  return count === 1 ? `${first}` : `${first},${count}`;
}

/**
 * A diff cut down for a prompt: file names and changed lines only, at most `maxLines` lines and
 * `maxChars` characters, so a history of failures stays small however big the changes were.
 */
export function compactDiff(diff: string, maxLines = 24, maxChars = 1200): string {
  const out: string[] = [];
  let chars = 0;
  let omitted = 0;
  let from = '';
  for (const line of diff.split('\n')) {
    let keep: string | null = null;
    if (line.startsWith('--- ')) from = line.startsWith('--- a/') ? line.slice(6) : '';
    if (line.startsWith('+++ ')) keep = line.startsWith('+++ /dev/null') ? `# ${from} (deleted)` : `# ${line.slice(6)}`;
    else if (line.startsWith('--- ') || line.startsWith('diff --git') || line.startsWith('@@') || line.startsWith('\\')) keep = null;
    // "# ..." lines say why a change is not shown line by line (too large, binary).
    else if (line.startsWith('+') || line.startsWith('-') || line.startsWith('# ')) keep = line.length > 160 ? `${line.slice(0, 159)}…` : line;
    if (keep === null) continue;
    if (out.length >= maxLines || chars + keep.length > maxChars) {
      omitted++;
      continue;
    }
    out.push(keep);
    chars += keep.length + 1;
  }
  if (omitted > 0) out.push(`# ... ${omitted} more changed line${omitted === 1 ? '' : 's'}`);
  return out.join('\n');
}
