import { describe, expect, it } from 'vitest';
import { TailBuffer } from '../../src/runner/tail-buffer.js';

describe('TailBuffer', () => {
  it('keeps everything while under the limit', () => {
    const tail = new TailBuffer(100);
    tail.push(Buffer.from('hello '));
    tail.push(Buffer.from('world'));
    expect(tail.toString()).toBe('hello world');
  });

  it('keeps only the last bytes', () => {
    const tail = new TailBuffer(8);
    for (let i = 0; i < 100; i += 1) tail.push(Buffer.from(`line ${String(i)}\n`));
    expect(tail.toString()).toBe('line 99\n');
  });

  it('does not start with half a character when the cut falls inside one', () => {
    const tail = new TailBuffer(5);
    // "é" is two bytes and "€" three: the last 5 bytes begin inside the "€".
    tail.push(Buffer.from('aé€€'));
    expect(tail.toString()).toBe('€');
  });
});
