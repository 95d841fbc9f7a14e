import { describe, expect, it } from 'vitest';
import { parseMarkerLine, parseMarkers } from '../../src/agents/tuner/marker.js';

describe('@tune markers', () => {
  it.each([
    // [line, name, value text, low, high, int, log]
    ['const INSERTION_CUTOFF = 8; // @tune 2..256 int log', 'INSERTION_CUTOFF', '8', 2, 256, true, true],
    ['LEARNING_RATE = 0.01  # @tune 1e-5..1 log', 'LEARNING_RATE', '0.01', 1e-5, 1, false, true],
    ['  momentum: 0.9, // @tune 0..0.99', 'momentum', '0.9', 0, 0.99, false, false],
    ['  "lr": 3e-4,  # @tune 1e-5..1e-2 log', 'lr', '3e-4', 1e-5, 0.01, false, true],
    ['let batch = 1_024; // @tune 16..4_096 log int', 'batch', '1_024', 16, 4096, true, true],
    ['export const X: number = -0.5; // @tune -1..1 linear', 'X', '-0.5', -1, 1, false, false],
    ['BATCH=32 # @tune 8..128 int', 'BATCH', '32', 8, 128, true, false],
    ['local depth = 6 -- @tune 1..12 int', 'depth', '6', 1, 12, true, false],
    ['threads = 4 ; @tune 1..16 int', 'threads', '4', 1, 16, true, false],
    ['#define CUTOFF 16 // @tune 4..64 int', 'CUTOFF', '16', 4, 64, true, false],
    ['float alpha = 0.5f; // @tune 0..1', 'alpha', '0.5', 0, 1, false, false],
    ['cutoff := 8 // @tune 2..64 int', 'cutoff', '8', 2, 64, true, false],
    ['self.gamma = 0.99  # discount, @tune 0.9..0.999', 'self.gamma', '0.99', 0.9, 0.999, false, false],
    ['x: int = 12  # @tune 1..100 int', 'x', '12', 1, 100, true, false],
    ['model.fit(x, epochs=10)  # @tune 1..50 int', 'epochs', '10', 1, 50, true, false],
    ['a = 1; b = 2.5; // @tune 0..10', 'b', '2.5', 0, 10, false, false],
    ['label = "#1"; size = 8 # @tune 1..32 int', 'size', '8', 1, 32, true, false],
    ['/* */ k = 3 /* @tune 1..9 int */', null, '3', 1, 9, true, false],
  ])('%s', (line, name, literal, low, high, int, log) => {
    const marker = parseMarkerLine(line, 'f.txt', 7);
    if (name === null) {
      // "/*" is not one of the comment openers: the line holds no marker.
      expect(marker).toBeNull();
      return;
    }
    expect(marker).toMatchObject({ identifier: name, literal, low, high, int, log, file: 'f.txt', line: 7 });
    if (typeof marker === 'object' && marker !== null) {
      expect(line.slice(marker.column, marker.column + literal.length)).toBe(literal);
    }
  });

  it('names the place by file and line when no identifier is assigned', () => {
    const marker = parseMarkerLine('run(8)  # @tune 1..16 int', 'a.py', 3);
    expect(marker).toMatchObject({ identifier: null, value: 8 });
  });

  it.each([
    ['X = 8 // @tune 64..2 int', '@tune 64..2: LOW must be below HIGH'],
    ['X = 8 // @tune 2..2', '@tune 2..2: LOW must be below HIGH'],
    ['X = 0.1 # @tune 0..1 log', '@tune 0..1 log: a log scale needs LOW > 0'],
    ['X = 8 // @tune', '@tune needs a range LOW..HIGH, as in "@tune 2..64 int log"'],
    ['X = 8 // @tune 2-64', '@tune needs a range LOW..HIGH, as in "@tune 2..64 int log"'],
    ['X = 8 // @tune 2..64 integer', '@tune: unknown option "integer" (use int, log or linear)'],
    ['X = 8 // @tune 2..64 log linear', '@tune cannot be both log and linear'],
    ['X = 8 // @tune 0.5..64 int', '@tune 0.5..64 int: an int range needs whole-number bounds'],
    ['X = foo() // @tune 2..64', '@tune 2..64: no number before the comment to tune'],
  ])('reports %s', (line, problem) => {
    expect(parseMarkerLine(line, 'f.js', 1)).toBe(problem);
  });

  it('ignores @tune outside comments and accepts a value outside its range', () => {
    expect(parseMarkerLine('const doc = "x = 8 // @tune 1..2";', 'f.js', 1)).toBeNull();
    expect(parseMarkerLine('no marker here = 3', 'f.js', 1)).toBeNull();
    expect(parseMarkerLine('X = 500 // @tune 2..64 int', 'f.js', 1)).toMatchObject({ value: 500 });
  });

  it('scans a whole file, with problems prefixed by file:line, CRLF lines included', () => {
    const text = ['a = 1  # @tune 0..2', 'b = 2', 'c = 3  # @tune 5..4', 'd = 1e-3  # @tune 1e-4..1 log'].join('\r\n');
    const scan = parseMarkers(text, 'src/m.py');
    expect(scan.markers.map((m) => [m.identifier, m.line, m.literal])).toEqual([
      ['a', 1, '1'],
      ['d', 4, '1e-3'],
    ]);
    expect(scan.problems).toEqual(['src/m.py:3: @tune 5..4: LOW must be below HIGH']);
  });
});
