import { describe, expect, it } from 'vitest';
import { CompressedLines } from '../../src/store/compressed-lines.js';

describe('CompressedLines', () => {
  it('gives back every line and any stretch of them, across compressed chunks and the pending tail', () => {
    const store = new CompressedLines();
    const lines = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"text":"${'é✓x'.repeat(i % 50)}"}`);
    const kept: string[] = [];
    for (const [i, line] of lines.entries()) {
      store.push(line);
      kept.push(line);
      // Between pushes too: a chunk seals itself as the text reaches its size.
      if (i % 997 === 0) expect(store.from(Math.max(0, i - 3))).toEqual(kept.slice(Math.max(0, i - 3)));
    }
    expect(store.count).toBe(5000);
    for (const start of [0, 1, 250, 251, 2500, 4999, 5000, 6000]) expect(store.from(start)).toEqual(lines.slice(start));
    expect(store.text()).toBe(`${lines.join('\n')}\n`);
    expect(new CompressedLines().text()).toBe('');
  });
});
