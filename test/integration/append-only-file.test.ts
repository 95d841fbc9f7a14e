import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAppendOnlyFile, type AppendOnlyFile } from '../../src/store/append-only-file.js';

let dir: string;
let file: string;
const open: AppendOnlyFile[] = [];
const openTracked = (options?: { repair?: boolean }): AppendOnlyFile => {
  const handle = openAppendOnlyFile(file, options);
  open.push(handle);
  return handle;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crucible-append-'));
  file = join(dir, 'lines.txt');
});
afterEach(() => {
  for (const handle of open.splice(0)) handle.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an append-only file', () => {
  it('starts its first line on a fresh line when it was opened on a torn tail it did not cut', () => {
    writeFileSync(file, 'one\ntw');
    const handle = openTracked({ repair: false });
    expect(handle.torn).toBe('tw');
    handle.appendLine('three');
    expect(readFileSync(file, 'utf8')).toBe('one\ntw\nthree\n');
  });

  it('starts afresh after a fragment someone else wrote between its own lines', () => {
    const handle = openTracked();
    handle.appendLine('a');
    handle.appendLine('b');
    appendFileSync(file, 'frag');
    handle.appendLine('c');
    handle.appendLine('d');
    expect(readFileSync(file, 'utf8')).toBe('a\nb\nfrag\nc\nd\n');
  });
});
