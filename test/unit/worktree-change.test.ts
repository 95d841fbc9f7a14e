import { describe, expect, it } from 'vitest';
import { literalPattern, sparsePatterns } from '../../src/workspace/sparse-patterns.js';
import { classifyStatus, parseNameStatus, parseStatus, touchesIndex } from '../../src/workspace/worktree-change.js';

describe('parseStatus / classifyStatus', () => {
  it('reads porcelain v1 -z output, names with spaces and newlines included', () => {
    const out = ' M train.py\0?? src/new file.py\0 D old.py\0?? odd\nname.py\0?? vendor/\0';
    const entries = parseStatus(out);
    expect(touchesIndex(entries)).toBe(false);
    expect(classifyStatus(entries)).toEqual([
      { path: 'train.py', kind: 'modified' },
      { path: 'src/new file.py', kind: 'added' },
      { path: 'old.py', kind: 'deleted' },
      { path: 'odd\nname.py', kind: 'added' },
      { path: 'vendor', kind: 'added' },
    ]);
  });

  it('notices when the index was touched', () => {
    expect(touchesIndex(parseStatus('A  x.py\0'))).toBe(true);
    expect(touchesIndex(parseStatus('R  new.py\0old.py\0'))).toBe(true);
    expect(parseStatus('R  new.py\0old.py\0 M a.py\0').map((e) => e.path)).toEqual(['new.py', 'a.py']);
  });

  it('reads diff --name-status -z output', () => {
    expect(parseNameStatus('M\0a.py\0A\0b c.py\0D\0d.py\0T\0e.py\0')).toEqual([
      { path: 'a.py', kind: 'modified' },
      { path: 'b c.py', kind: 'added' },
      { path: 'd.py', kind: 'deleted' },
      { path: 'e.py', kind: 'modified' },
    ]);
  });
});

describe('sparsePatterns', () => {
  it('excludes each hidden entry, anchored at the project root', () => {
    expect(sparsePatterns(['evaluate.py', 'tests/', './*.secret', '**/answers.csv'])).toBe(
      '/*\n!/evaluate.py\n!/tests\n!/*.secret\n!/**/answers.csv\n',
    );
  });

  it('prefixes a project subfolder, escaping its name and trailing spaces', () => {
    expect(sparsePatterns(['v[12].py', 'trailing ', '#x', '!y'], 'exp [a]')).toBe(
      '/*\n!/exp \\[a]/v[12].py\n!/exp \\[a]/trailing\\ \n!/exp \\[a]/#x\n!/exp \\[a]/!y\n',
    );
  });

  it('skips entries that leave the project', () => {
    expect(sparsePatterns(['../x', '.'])).toBe('/*\n');
  });

  it('writes a literal clean pattern', () => {
    expect(literalPattern('data/a*b.csv')).toBe('/data/a\\*b.csv');
  });
});
