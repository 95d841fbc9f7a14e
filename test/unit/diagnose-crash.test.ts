import { describe, expect, it } from 'vitest';
import { diagnoseCrash } from '../../src/runner/diagnose-crash.js';

describe('diagnoseCrash', () => {
  it.each([
    ['  File "solution.py", line 3\n    def f(:\nSyntaxError: invalid syntax', 'Typo/syntax'],
    ['IndentationError: unexpected indent', 'Typo/syntax'],
    ["NameError: name 'np' is not defined", 'Typo/syntax'],
    ['ReferenceError: foo is not defined', 'Typo/syntax'],
    ["ModuleNotFoundError: No module named 'torch'", 'Missing module'],
    ['ImportError: cannot import name x', 'Missing module'],
    ["Error: Cannot find module 'lodash'", 'Missing module'],
    ['code: ERR_MODULE_NOT_FOUND', 'Missing module'],
    ["TypeError: unsupported operand type(s) for +: 'int' and 'str'", 'Logic bug'],
    ['ValueError: math domain error', 'Logic bug'],
    ['RangeError: Invalid array length', 'Logic bug'],
    ['AssertionError', 'Logic bug'],
    ['IndexError: list index out of range', 'Logic bug'],
    ["KeyError: 'x'", 'Logic bug'],
    ['MemoryError', 'Resource limit'],
    ['torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB', 'Resource limit'],
    ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory', 'Resource limit'],
    ['RangeError: Maximum call stack size exceeded', 'Resource limit'],
    ['sh: line 1: 1234 Killed                  python3 train.py', 'Resource limit'],
    ['run command killed by SIGKILL', 'Resource limit'],
    ['container OOM', 'Resource limit'],
    ['timed out after 60s — the change made the experiment too slow', 'Too slow'],
    ['something odd happened', 'Unknown'],
    ['', 'Unknown'],
  ])('classifies %j as %s', (text, label) => {
    expect(diagnoseCrash(text).label).toBe(label);
  });

  it('does not read OOM inside ordinary words', () => {
    expect(diagnoseCrash('boom! the room went zoom').label).toBe('Unknown');
    expect(diagnoseCrash('Error: kaboom').label).toBe('Unknown');
  });

  it('does not read error names inside longer identifiers', () => {
    expect(diagnoseCrash('MyTypeErrorHandler failed').label).toBe('Unknown');
  });

  it('lets a timeout headline win over what the dying process printed', () => {
    const report = 'timed out after 2s — the change made the experiment too slow\nKilled\nKeyError: x';
    expect(diagnoseCrash(report).label).toBe('Too slow');
  });

  it('gives one sentence of advice for every label', () => {
    const texts = ['SyntaxError', 'ImportError', 'TypeError', 'MemoryError', 'timed out', 'odd'];
    for (const text of texts) {
      const { advice } = diagnoseCrash(text);
      expect(advice).toMatch(/^[A-Z].*\.$/);
      expect(advice).not.toContain('\n');
    }
  });
});
