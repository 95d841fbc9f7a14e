import { describe, expect, it } from 'vitest';
import { MarkedOutput } from '../../src/runner/marked-output.js';

/** Feeds `chunks` to a MarkedOutput for `mark`; what it gave out, and whether it saw the mark. */
function feed(mark: string, chunks: string[]): { out: string; done: boolean; overrun: boolean; output: MarkedOutput } {
  let out = '';
  const output = new MarkedOutput(Buffer.from(mark), (chunk) => {
    out += chunk.toString();
  });
  for (const chunk of chunks) output.push(Buffer.from(chunk));
  return { out, done: output.done, overrun: output.overrun, output };
}

describe('a command output read up to the mark of its end (decisions 73)', () => {
  it('gives out everything before the mark, and nothing of the mark, however the chunks fall', () => {
    const mark = 'c0ffee42';
    const text = 'loss: 1\npartial c0ff';
    const whole = `${text}${mark}`;
    for (let cut = 0; cut <= whole.length; cut++) {
      for (let second = cut; second <= whole.length; second++) {
        const result = feed(mark, [whole.slice(0, cut), whole.slice(cut, second), whole.slice(second)]);
        expect(result).toMatchObject({ out: text, done: true, overrun: false });
      }
    }
  });

  it('holds back only what may be the start of the mark, and gives it out when it was not', () => {
    const held = feed('abcdef', ['output ab']);
    expect(held).toMatchObject({ out: 'output ', done: false });
    held.output.push(Buffer.from('x and more'));
    expect(held.out).toBe('output ');
    const next = feed('abcdef', ['output ab', 'x and more']);
    expect(next.out).toBe('output abx and more');
    // A stream that ended without its mark (the sandbox ended first) gives out what it held.
    next.output.push(Buffer.from('abc'));
    let flushed = '';
    const ended = new MarkedOutput(Buffer.from('abcdef'), (chunk) => {
      flushed += chunk.toString();
    });
    ended.push(Buffer.from('tail ab'));
    ended.flush();
    expect(flushed).toBe('tail ab');
  });

  it('says so when anything comes after the mark, and gives none of it out', () => {
    expect(feed('m4rk', ['a', 'm4rk'])).toMatchObject({ out: 'a', done: true, overrun: false });
    expect(feed('m4rk', ['am4rk', 'late'])).toMatchObject({ out: 'a', done: true, overrun: true });
    // The mark's text inside the output (never the real one: nobody but crucible knows it) is output.
    expect(feed('m4rk', ['a m4rk b'])).toMatchObject({ out: 'a m4rk b', done: false });
  });
});
