import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffTrialFiles } from '../../src/workspace/trial-diff.js';
import { compactDiff } from '../../src/workspace/unified-diff.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'crucible-trial-diff-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let cases = 0;
/** Two folders holding `before` and `after` of f.txt (null: absent). */
function folders(before: string | Buffer | null, after: string | Buffer | null): { a: string; b: string } {
  const dir = path.join(root, `case-${++cases}`);
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  mkdirSync(a, { recursive: true });
  mkdirSync(b, { recursive: true });
  if (before !== null) writeFileSync(path.join(a, 'f.txt'), before);
  if (after !== null) writeFileSync(path.join(b, 'f.txt'), after);
  return { a, b };
}

/** What `git apply` makes of the old text with our diff: the diff is right when that is the new text. */
function applyWithGit(before: string | null, diff: string): string | null {
  const work = mkdtempSync(path.join(root, 'apply-'));
  if (before !== null) writeFileSync(path.join(work, 'f.txt'), before);
  writeFileSync(path.join(work, 'p.diff'), diff);
  execFileSync('git', ['apply', 'p.diff'], { cwd: work, stdio: 'pipe' });
  try {
    return readFileSync(path.join(work, 'f.txt'), 'utf8');
  } catch {
    return null;
  }
}

const numbered = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');
// Over 200 KB: the agreeing ends span several of the 64 KB chunks they are compared in.
const BIG = numbered(0, 20_000);

describe('diffTrialFiles: diffs git applies exactly', () => {
  const edits: Array<{ name: string; before: string | null; after: string | null }> = [
    { name: 'a one-line change in a small file', before: 'a\nb\nc\n', after: 'a\nB\nc\n' },
    { name: 'a change in the middle of a big file', before: BIG, after: BIG.replace('line 10000\n', 'LINE 10000\n') },
    { name: 'a change near the start of a big file', before: BIG, after: BIG.replace('line 1\n', 'line one\n') },
    { name: 'a change on the first line', before: BIG, after: `first!\n${BIG.slice(BIG.indexOf('\n') + 1)}` },
    { name: 'a change on the last line', before: BIG, after: BIG.replace('line 19999\n', 'line 19999 changed\n') },
    { name: 'a last line losing its newline', before: BIG, after: BIG.slice(0, -1) },
    { name: 'lines appended', before: BIG, after: `${BIG}more\nand more\n` },
    { name: 'lines inserted at a chunk boundary', before: BIG, after: BIG.replace('line 6000\n', 'line 6000\nnew a\nnew b\n') },
    { name: 'two distant changes', before: BIG, after: BIG.replace('line 100\n', 'x\n').replace('line 19000\n', 'y\n') },
    { name: 'a change inside a line shared by both ends', before: 'abc\nabc\nabc\n', after: 'abc\nabXc\nabc\n' },
    { name: 'a new file', before: null, after: 'new\nfile\n' },
    { name: 'a deleted file', before: 'old\n', after: null },
  ];
  it.each(edits)('$name', ({ before, after }) => {
    const { a, b } = folders(before, after);
    const diff = diffTrialFiles(['f.txt'], a, b);
    expect(applyWithGit(before, diff)).toBe(after);
    // No more than the change and its context: never the agreeing bulk of a big file.
    expect(diff.length).toBeLessThan(2000);
  });

  it('agrees with git on random edits of big files', () => {
    // mulberry32, seeded: varied edits, the same in every run.
    let seed = 7;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    for (let i = 0; i < 12; i++) {
      const lines = BIG.split('\n');
      for (let e = 0; e < 1 + Math.floor(rand() * 3); e++) {
        const at = Math.floor(rand() * lines.length);
        if (rand() < 0.5) lines.splice(at, 1 + Math.floor(rand() * 3));
        else lines.splice(at, 0, `inserted ${e}`);
      }
      const after = lines.join('\n');
      const { a, b } = folders(BIG, after);
      expect(applyWithGit(BIG, diffTrialFiles(['f.txt'], a, b))).toBe(after);
    }
  });

  it('is empty for identical files', () => {
    const { a, b } = folders(BIG, BIG);
    expect(diffTrialFiles(['f.txt'], a, b)).toBe('');
  });
});

describe('diffTrialFiles: bounded whatever the agent wrote', () => {
  const summaries: Array<{ name: string; before: string | Buffer | null; after: string | Buffer | null; says: RegExp }> = [
    { name: 'a differing part over the byte limit', before: 'x = 1\n', after: `x = 2\n${'#'.repeat(2000)}\n`, says: /f\.txt: 6 bytes → 2007 bytes; the change is too large to show/ },
    { name: 'a differing part over the line limit', before: 'x = 1\n', after: `x = 2\n${'y\n'.repeat(500)}`, says: /too large to show \(over 1000 bytes or 100 lines differ\)/ },
    { name: 'a huge new file', before: null, after: 'z'.repeat(5000), says: /f\.txt: new → 5000 bytes/ },
    { name: 'a binary file', before: Buffer.from([1, 0, 2]), after: Buffer.from([1, 0, 3]), says: /^Binary files a\/f\.txt and b\/f\.txt differ$/m },
  ];
  it.each(summaries)('summarises $name in one line, which the prompt keeps', ({ before, after, says }) => {
    const { a, b } = folders(before, after);
    const diff = diffTrialFiles(['f.txt'], a, b, { maxPartBytes: 1000, maxPartLines: 100 });
    expect(diff).toMatch(says);
    expect(diff.length).toBeLessThan(400);
    if (!/Binary/.test(diff)) expect(compactDiff(diff)).toMatch(/^# f\.txt\n# f\.txt: .*too large/);
  });

  it('keeps the whole diff under its limit, naming the files left out', () => {
    const dir = path.join(root, 'many');
    for (const side of ['a', 'b']) mkdirSync(path.join(dir, side), { recursive: true });
    const files = ['f1.txt', 'f2.txt', 'f3.txt'];
    for (const file of files) {
      writeFileSync(path.join(dir, 'a', file), numbered(0, 50));
      writeFileSync(path.join(dir, 'b', file), numbered(0, 50).toUpperCase());
    }
    const diff = diffTrialFiles(files, path.join(dir, 'a'), path.join(dir, 'b'), { maxDiffBytes: 2500 });
    expect(diff.length).toBeLessThanOrEqual(2500);
    expect(diff).toContain('+LINE 49');
    expect(diff).toMatch(/# f3\.txt: left out: the trial's diff is limited to 2500 bytes/);
  });
});

describe('diffTrialFiles: a file rewritten entirely', () => {
  it('still gives a diff git applies, past the bound on Myers steps', () => {
    const before = numbered(0, 3000);
    const after = before.toUpperCase();
    const { a, b } = folders(before, after);
    expect(applyWithGit(before, diffTrialFiles(['f.txt'], a, b))).toBe(after);
  });
});

describe('diffTrialFiles: the before side given as each file\'s content (its commit\'s)', () => {
  it('gives the same diff as from a folder, for edits of big files, new files and binary ones', () => {
    const edited = BIG.replace('line 10000\n', 'line ten thousand\n').replace('line 3\n', '');
    const cases: [string | null, string | Buffer | null][] = [
      [BIG, edited],
      [null, 'a new file\n'],
      ['gone\n', null],
      ['text\n', Buffer.from([1, 0, 2])],
    ];
    for (const [before, after] of cases) {
      const { a, b } = folders(before, after);
      const fromFolder = diffTrialFiles(['f.txt'], a, b);
      const inMemory = diffTrialFiles(['f.txt'], new Map([['f.txt', before === null ? null : Buffer.from(before)]]), b);
      expect(inMemory).toBe(fromFolder);
      expect(inMemory).not.toBe('');
    }
    const { b } = folders(null, edited);
    expect(applyWithGit(BIG, diffTrialFiles(['f.txt'], new Map([['f.txt', Buffer.from(BIG)]]), b))).toBe(edited);
  });
});
