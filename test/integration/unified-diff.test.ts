import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compactDiff, countChangedLines, unifiedDiff } from '../../src/workspace/unified-diff.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Applies our diff with `git apply` to the old text and returns what git made of it. */
function applyWithGit(before: string | null, diff: string): string | null {
  const work = mkdtempSync(path.join(dir, 'case-'));
  if (before !== null) writeFileSync(path.join(work, 'f.txt'), before);
  writeFileSync(path.join(work, 'p.diff'), diff);
  execFileSync('git', ['apply', '--unidiff-zero', 'p.diff'], { cwd: work, stdio: 'pipe' });
  try {
    return readFileSync(path.join(work, 'f.txt'), 'utf8');
  } catch {
    return null;
  }
}

function randomText(rand: () => number, lines: number): string {
  const words = ['a', 'b', 'c', 'const x = 1;', '', 'return y;', '}'];
  const out = Array.from({ length: lines }, () => words[Math.floor(rand() * words.length)]!);
  return out.join('\n') + (rand() < 0.8 ? '\n' : '');
}

function mutate(rand: () => number, text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < 1 + Math.floor(rand() * 4); i++) {
    const at = Math.floor(rand() * (lines.length + 1));
    const r = rand();
    if (r < 0.33) lines.splice(at, 1);
    else if (r < 0.66) lines.splice(at, 0, `inserted ${i}`);
    else lines[at] = `changed ${i}`;
  }
  return lines.join('\n');
}

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('f.txt', 'a\n', 'a\n')).toBe('');
  });

  it('reads like git for a one-line change', () => {
    expect(unifiedDiff('sort.js', 'a\nb\nc\n', 'a\nB\nc\n')).toBe(
      'diff --git a/sort.js b/sort.js\n--- a/sort.js\n+++ b/sort.js\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n',
    );
    expect(countChangedLines(unifiedDiff('sort.js', 'a\nb\nc\n', 'a\nB\nc\n'))).toEqual({ added: 1, removed: 1 });
  });

  it('produces patches git applies exactly, over many random edits', () => {
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 150; i++) {
      const before = randomText(rand, Math.floor(rand() * 30));
      const after = mutate(rand, before);
      if (before === after) continue;
      expect(applyWithGit(before, unifiedDiff('f.txt', before, after))).toBe(after);
    }
  });

  it('handles created and deleted files', () => {
    expect(applyWithGit(null, unifiedDiff('f.txt', null, 'new\nfile\n'))).toBe('new\nfile\n');
    expect(applyWithGit('old\n', unifiedDiff('f.txt', 'old\n', null))).toBeNull();
  });
});

describe('compactDiff', () => {
  it('keeps file names and changed lines only, within its bounds', () => {
    const before = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const after = before.replace('line 10\n', 'LINE 10\n').replace('line 90\n', 'LINE 90\n');
    expect(compactDiff(unifiedDiff('a.js', before, after))).toBe('# a.js\n-line 10\n+LINE 10\n-line 90\n+LINE 90');
    const huge = compactDiff(unifiedDiff('b.js', before, before.toUpperCase()), 10, 10_000);
    expect(huge.split('\n')).toHaveLength(11);
    expect(huge).toMatch(/# \.\.\. \d+ more changed lines$/);
    expect(compactDiff(unifiedDiff('c.js', 'gone\n', null))).toBe('# c.js (deleted)\n-gone');
  });
});
