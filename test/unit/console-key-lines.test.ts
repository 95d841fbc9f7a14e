import { describe, expect, it } from 'vitest';
import { keyLines } from '../../src/cli/console-reporter.js';

describe('keyLines of a crash report', () => {
  it('finds the error of a Node crash after its code frame', () => {
    const report = [
      'run command exited with code 1',
      'file:///tmp/p/evaluate.js:15',
      "    throw new Error('boom');",
      '    ^',
      '',
      'Error: evaluate.js: the harness is broken',
      '    at file:///tmp/p/evaluate.js:15:11',
      'Node.js v20.20.2',
    ].join('\n');
    expect(keyLines(report)).toEqual(['run command exited with code 1', 'Error: evaluate.js: the harness is broken']);
  });

  it('finds the last line of a Python traceback', () => {
    const report = ['run command exited with code 1', 'Traceback (most recent call last):', '  File "train.py", line 3, in <module>', "ModuleNotFoundError: No module named 'torch'"].join('\n');
    expect(keyLines(report)[1]).toBe("ModuleNotFoundError: No module named 'torch'");
  });

  it('falls back to the last line, and to the head alone', () => {
    expect(keyLines('eval output has no score line\nsomething else')).toEqual(['eval output has no score line', 'something else']);
    expect(keyLines('timed out after 1s')).toEqual(['timed out after 1s']);
  });
});
