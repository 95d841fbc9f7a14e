/**
 * A unified diff of one file, computed in process: a git process per trial costs more than the
 * diff itself for the small edits agents make. Line-based Myers diff with 3 lines of context; a
 * pathological input (huge and entirely different) falls back to "all removed, all added".
 */
export function unifiedDiff(file: string, before: string | null, after: string | null, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before ?? '');
  const b = splitLines(after ?? '');
  const ops = diffLines(compareKeys(a), compareKeys(b));
  const header = [
    `diff --git a/${file} b/${file}`,
    before === null ? 'new file mode 100644' : null,
    after === null ? 'deleted file mode 100644' : null,
    `--- ${before === null ? '/dev/null' : `a/${file}`}`,
    `+++ ${after === null ? '/dev/null' : `b/${file}`}`,
  ].filter((line): line is string => line !== null);
  const hunks = formatHunks(ops, a, b, context);
  return `${[...header, ...hunks].join('\n')}\n`;
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

const MAX_WORK = 20_000_000;

/** Myers' O(ND) shortest edit script, as a list of keep/remove/add operations. */
function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max;
  const trace: Int32Array[] = [];
  let v: Int32Array = new Int32Array(2 * max + 2);
  let found = -1;
  for (let d = 0; d <= max; d++) {
    if (d * (n + m) > MAX_WORK) break;
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    if (found >= 0) {
      trace.push(v);
      break;
    }
  }
  if (found < 0) {
    return [...a.map((_, i) => ({ kind: '-' as const, aIndex: i, bIndex: 0 })), ...b.map((_, j) => ({ kind: '+' as const, aIndex: n, bIndex: j }))];
  }
  // Walk back through the saved frontiers to recover the path.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) ops.push({ kind: ' ', aIndex: --x, bIndex: --y });
    if (x === prevX) ops.push({ kind: '+', aIndex: x, bIndex: --y });
    else ops.push({ kind: '-', aIndex: --x, bIndex: y });
  }
  while (x > 0 && y > 0) ops.push({ kind: ' ', aIndex: --x, bIndex: --y });
  return ops.reverse();
}

function formatHunks(ops: readonly Op[], a: Lines, b: Lines, context: number): string[] {
  const out: string[] = [];
  const changes = ops.map((op, i) => (op.kind === ' ' ? -1 : i)).filter((i) => i >= 0);
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
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
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
    else if (line.startsWith('+') || line.startsWith('-')) keep = line.length > 160 ? `${line.slice(0, 159)}…` : line;
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
