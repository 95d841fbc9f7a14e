import { describe, expect, it } from 'vitest';
import { differingFiles, type Tree } from '../../src/workspace/in-process-commit.js';

const sha = (n: number, version: number) => `${version}${n.toString(16).padStart(39, '0')}`;

/** A tree with one folder of `count` files, each at `version`. */
function treeWith(count: number, version: number): Tree {
  const inner: Tree = new Map(Array.from({ length: count }, (_, n) => [`f${n}`, { mode: '100644', sha: sha(n, version) }]));
  return new Map([['data', { mode: '40000', sha: `${version}`.padEnd(40, 'a'), tree: inner }]]);
}

describe('differingFiles', () => {
  it('lists the files two trees hold differently, down the folders', () => {
    const changed = differingFiles(treeWith(3, 1), treeWith(3, 2), '');
    expect(changed).toEqual([0, 1, 2].map((n) => ({ path: `data/f${n}`, mode: '100644', was: sha(n, 1), sha: sha(n, 2) })));
  });

  it('lists a folder of 130,000 changed files (spread into push, they overflowed the stack)', () => {
    const changed = differingFiles(treeWith(130_000, 1), treeWith(130_000, 2), '');
    expect(changed).toHaveLength(130_000);
    expect(changed!.at(-1)).toEqual({ path: 'data/f129999', mode: '100644', was: sha(129_999, 1), sha: sha(129_999, 2) });
  });
});
