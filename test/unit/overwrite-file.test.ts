import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { overwriteInPlace } from '../../src/workspace/overwrite-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-overwrite-')));
  dirs.push(dir);
  return dir;
}

describe('overwriteInPlace', () => {
  it('rewrites a plain file in place, shorter or longer, keeping its inode', () => {
    const file = path.join(tempDir(), 'params.txt');
    writeFileSync(file, 'ALPHA = 5.0\nBETA = 300\n');
    const inode = statSync(file).ino;
    expect(overwriteInPlace(file, 'ALPHA = 0.37\n')).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('ALPHA = 0.37\n');
    expect(overwriteInPlace(file, Buffer.from('ALPHA = 0.37\nBETA = 4242\nGAMMA = 1\n'))).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('ALPHA = 0.37\nBETA = 4242\nGAMMA = 1\n');
    expect(statSync(file).ino).toBe(inode);
  });

  it('writes nothing where the file is absent, a link, another name of a file, or of the other executable kind', () => {
    const dir = tempDir();
    expect(overwriteInPlace(path.join(dir, 'absent'), 'x')).toBe(false);
    expect(() => statSync(path.join(dir, 'absent'))).toThrow();

    const target = path.join(dir, 'target');
    writeFileSync(target, 'the user\'s\n');
    symlinkSync(target, path.join(dir, 'link'));
    expect(overwriteInPlace(path.join(dir, 'link'), 'x')).toBe(false);
    linkSync(target, path.join(dir, 'hard'));
    expect(overwriteInPlace(path.join(dir, 'hard'), 'x')).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('the user\'s\n');

    const script = path.join(dir, 'run.sh');
    writeFileSync(script, 'echo 1\n');
    chmodSync(script, 0o755);
    expect(overwriteInPlace(script, 'echo 2\n', false)).toBe(false);
    expect(overwriteInPlace(script, 'echo 2\n', true)).toBe(true);
    expect(readFileSync(script, 'utf8')).toBe('echo 2\n');
  });

  it('does not wait for a reader of a FIFO put in the file\'s place', () => {
    const fifo = path.join(tempDir(), 'params.txt');
    execFileSync('mkfifo', [fifo]);
    // A blocking open would hang here for good: no process reads the FIFO.
    expect(overwriteInPlace(fifo, 'x')).toBe(false);
  });
});
