import { mkdirSync, mkdtempSync, openSync, closeSync, ftruncateSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { createHiddenTextRedactor, describeCoverage, HIDDEN_LINE_MARKER, redactorForTexts } from '../../src/workspace/hidden-text.js';
import { agentViews } from '../../src/prompt/agent-views.js';
import { KGRAM, WINDOW } from '../../src/workspace/text-fingerprints.js';

const HARNESS = `import json, sys
from solution import predict

SECRET_TEST_CASES = [(3, 9), (4, 16), (12, 144)]

def main():
    score = 0
    for given, expected in SECRET_TEST_CASES:
        if predict(given) == expected:
            score += 1
    print(f"score: {score}")
    return score
}
`;

const redactor = redactorForTexts([HARNESS]);

describe('redact: lines that show hidden text', () => {
  const removed: Array<[string, string]> = [
    ['the same line', 'SECRET_TEST_CASES = [(3, 9), (4, 16), (12, 144)]'],
    ['indented as a Python traceback shows it', '    if predict(given) == expected:'],
    ['spaced differently', 'SECRET_TEST_CASES=[(3,9),(4,16),(12,144)]'],
    ['after a line number', '  9 |         if predict(given) == expected:'],
    ['after a log prefix', '2024-05-01 12:00:01 INFO for given, expected in SECRET_TEST_CASES:'],
    ['after a diff marker', '+    for given, expected in SECRET_TEST_CASES:'],
    ['followed by a comment', 'for given, expected in SECRET_TEST_CASES:   # <-- failed here'],
    ['in colour', '\u001b[31m    if predict(given) == expected:\u001b[0m'],
    ['the whole file on one line', HARNESS.replace(/\s+/g, ' ')],
    ['a long run inside other text', `leaked: "${HARNESS.replace(/\s+/g, ' ').slice(40, 100)}" (end)`],
  ];
  it.each(removed)('removes a hidden line %s', (_why, line) => {
    expect(redactor.redact(line)).toBe(HIDDEN_LINE_MARKER);
  });

  const kept: Array<[string, string]> = [
    ['an unrelated error', 'ZeroDivisionError: division by zero'],
    ['a trivial line the harness also has', '}'],
    ['a short line the harness also has', '    score = 0'],
    ['the metric line it prints', 'score: 3'],
    ['a traceback location', '  File "/proj/evaluate.py", line 9, in main'],
    ['a short fragment inside other text', 'predict(given) returned None'],
    ['repeated characters', '='.repeat(80)],
    ['an empty line', ''],
  ];
  it.each(kept)('keeps %s', (_why, line) => {
    expect(redactor.redact(line)).toBe(line);
  });

  it('replaces consecutive hidden lines by one marker that counts them, and keeps the rest in place', () => {
    const report = ['Traceback (most recent call last):', ...HARNESS.split('\n').slice(7, 10), 'ValueError: bad prediction'].join('\n');
    expect(redactor.redact(report)).toBe(['Traceback (most recent call last):', '[3 lines from a hidden file removed]', 'ValueError: bad prediction'].join('\n'));
  });

  it('changes nothing when there is no hidden text', () => {
    const none = redactorForTexts([]);
    expect(none.redact(HARNESS)).toBe(HARNESS);
  });

  it('is applied to every text of the history an agent sees', () => {
    const views = agentViews(
      [
        { trial: 1, outcome: 'crash', metric: null, description: 'SECRET_TEST_CASES = [(3, 9), (4, 16), (12, 144)]', detail: 'run failed\n    print(f"score: {score}")\nTypeError', diff: '# solution.py\n+def main():\n+    score = 0\n+    return score' },
      ],
      redactor.redact,
    );
    expect(views).toEqual([
      { trial: 1, outcome: 'crash', metric: null, description: HIDDEN_LINE_MARKER, detail: `run failed\n${HIDDEN_LINE_MARKER}\nTypeError`, diff: `# solution.py\n${HIDDEN_LINE_MARKER}\n+    score = 0\n${HIDDEN_LINE_MARKER}` },
    ]);
  });
});

describe('redact: the bound on what is found', () => {
  // mulberry32: a seeded generator whose texts do not repeat.
  let seed = 11;
  const rand = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const word = (): string => Array.from({ length: 2 + Math.floor(rand() * 7) }, () => 'abcdefghijklmnopqrstuvwxyz0123456789_(),.='[Math.floor(rand() * 42)]).join('');
  const text = (words: number): string => Array.from({ length: words }, () => word() + (rand() < 0.15 ? '\n' : ' ')).join('');
  const secret = text(20_000);
  const index = redactorForTexts([secret]);
  const flat = secret.replace(/\s+/g, '');

  it(`finds any run of ${KGRAM + WINDOW - 1} characters of hidden text, wherever it sits in a line`, () => {
    for (let i = 0; i < 300; i++) {
      const at = Math.floor(rand() * (flat.length - 100));
      const run = flat.slice(at, at + KGRAM + WINDOW - 1);
      expect(index.redact(`${word()} ${run} ${word()}`), run).toBe(HIDDEN_LINE_MARKER);
    }
  });

  it('rarely removes a line of other text', () => {
    const other = redactorForTexts([text(20_000)]);
    const lines = Array.from({ length: 2000 }, () => text(12).replace(/\n/g, ' '));
    const removed = lines.filter((line) => other.redact(line) !== line);
    expect(removed.length).toBeLessThan(10);
  });
});

describe('createHiddenTextRedactor: the hidden files of a project folder', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'crucible-hidden-text-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let projects = 0;
  const project = (files: Record<string, string | Buffer>): string => {
    const dir = path.join(root, `p${++projects}`);
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    return dir;
  };
  const policy = (hidden: string[]) => createAccessPolicy({ editable: ['solution.py'], readonly: [], hidden });

  const cases: Array<{ name: string; files: Record<string, string | Buffer>; hidden: string[]; secret: string; visible?: string }> = [
    { name: 'a file', files: { 'evaluate.py': 'expected_answer = compute_the_reference(42)\n' }, hidden: ['evaluate.py'], secret: 'expected_answer = compute_the_reference(42)' },
    { name: 'a folder', files: { 'tests/deep/case.txt': 'input 1 2 3 expects the answer 6\n' }, hidden: ['tests/'], secret: 'input 1 2 3 expects the answer 6' },
    { name: 'a glob', files: { 'data/a.secret': 'the label of sample 17 is CAT\n', 'data/b.txt': 'a visible line of text here\n' }, hidden: ['data/*.secret'], secret: 'the label of sample 17 is CAT', visible: 'a visible line of text here' },
    { name: 'a glob from the root', files: { 'x/y/key.pem': 'BEGIN PRIVATE KEY MIIEvQIBADANBg\n' }, hidden: ['**/*.pem'], secret: 'BEGIN PRIVATE KEY MIIEvQIBADANBg' },
    { name: 'the strings of a binary file', files: { 'model.bin': Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from('weights trained on the test split'), Buffer.from([0, 255])]) }, hidden: ['model.bin'], secret: 'weights trained on the test split' },
  ];
  it.each(cases)('indexes $name', ({ files, hidden, secret, visible }) => {
    const r = createHiddenTextRedactor(project(files), policy(hidden));
    expect(r.redact(`> ${secret}`)).toBe(HIDDEN_LINE_MARKER);
    if (visible) expect(r.redact(visible)).toBe(visible);
    expect(describeCoverage(r.coverage)).toBeNull();
  });

  it('follows a hidden symlink to a file but never walks outside the project', () => {
    const outside = project({ 'elsewhere.txt': 'text that lives outside the project folder\n' });
    const dir = project({ 'solution.py': 'x = 1\n' });
    symlinkSync(path.join(outside, 'elsewhere.txt'), path.join(dir, 'linked.txt'));
    const r = createHiddenTextRedactor(dir, policy(['linked.txt', '../p1/evaluate.py']));
    expect(r.redact('text that lives outside the project folder')).toBe(HIDDEN_LINE_MARKER);
    expect(r.coverage.files).toBe(1);
  });

  it('reads a bounded prefix of huge files, the smallest files first, and says what it left out', () => {
    const harness = 'assert predict(7) == 49, "the secret case"\n';
    const dir = project({ 'evaluate.py': harness });
    // 1 GiB, sparse: reading all of it would take seconds and a gigabyte.
    const fd = openSync(path.join(dir, 'huge.bin'), 'w');
    ftruncateSync(fd, 1024 ** 3);
    closeSync(fd);
    writeFileSync(path.join(dir, 'big.csv'), `${'first,row,of,the,big,table\n'}${'x,y\n'.repeat(1000)}last,row,of,the,big,table\n`);
    const r = createHiddenTextRedactor(dir, policy(['evaluate.py', 'huge.bin', 'big.csv']), { maxFileBytes: 2000, maxTotalBytes: harness.length + 2000 });
    expect(r.redact('assert predict(7) == 49, "the secret case"')).toBe(HIDDEN_LINE_MARKER);
    expect(r.redact('first,row,of,the,big,table')).toBe(HIDDEN_LINE_MARKER);
    // Past what was read: documented, and said at the run's start.
    expect(r.redact('last,row,of,the,big,table')).toBe('last,row,of,the,big,table');
    expect(r.coverage.bytes).toBe(harness.length + 2000);
    const said = describeCoverage(r.coverage);
    expect(said).toContain('big.csv (only its first 2000 bytes');
    expect(said).toContain('huge.bin (not read');
  });
});
