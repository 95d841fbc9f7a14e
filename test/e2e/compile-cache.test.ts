import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCliBuilt, cliPath } from '../helpers/project.js';

/**
 * V8's code cache for the command's own files (src/cli/compile-cache.ts, docs/decisions.md 55):
 * a cache is compiled code, and V8 checks it against its source by length alone. These tests run
 * copies of the built command, change them, and plant caches, to show that a start runs the code
 * that is in the files, and nothing else.
 */

const marker = 'Autonomous experiment loop';
// The same length: V8 alone would take a cache of the old text for this one.
const changed = 'AUTONOMOUS EXPERIMENT LOOP';

let tmp: string;
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});
beforeAll(() => checkCliBuilt());

/** A copy of the built command (dist/cli, and the package.json it reads its version from) under tmp/name. */
function copyCommand(name: string): string {
  const copy = path.join(tmp, name, 'dist', 'cli');
  cpSync(path.dirname(cliPath), copy, { recursive: true });
  cpSync(path.join(path.dirname(cliPath), '..', '..', 'package.json'), path.join(tmp, name, 'package.json'));
  return copy;
}

function setup(): { cli: string; cache: string; bundle: string } {
  tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-compile-cache-')));
  const copy = copyCommand('package');
  const bundle = path.join(copy, 'crucible.js');
  expect(readFileSync(bundle, 'utf8')).toContain(marker);
  return { cli: path.join(copy, 'main.js'), cache: path.join(tmp, 'cache'), bundle };
}

function help(cli: string, cache: string, env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(process.execPath, [cli, '--help'], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], HOME: path.join(tmp, 'home'), XDG_CACHE_HOME: cache, ...env },
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

/** The cache files of the one copy run with this cache root: name → path. */
function cacheFiles(cache: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.set(entry.name, full);
    }
  };
  if (existsSync(cache)) walk(cache);
  return found;
}

function bundleCache(cache: string): string {
  const file = cacheFiles(cache).get('crucible.js@other');
  if (file === undefined) throw new Error(`no cache of crucible.js under ${cache}: ${[...cacheFiles(cache).keys()].join(', ')}`);
  return file;
}

/** A cache of `from` (made by running it) that names `target` as its source. */
function plantCache(fromCli: string, fromCache: string, target: string, into: string): void {
  help(fromCli, fromCache);
  const made = readFileSync(bundleCache(fromCache));
  const newline = made.indexOf(10);
  const [magic, version] = made.subarray(0, newline).toString('latin1').split(' ');
  const s = statSync(target);
  const identity = `${String(s.dev)}:${String(s.ino)}:${String(s.size)}:${String(s.mtimeMs)}:${String(s.ctimeMs)}`;
  writeFileSync(into, Buffer.concat([Buffer.from(`${magic ?? ''} ${version ?? ''} ${identity}\n`, 'latin1'), made.subarray(newline + 1)]));
}

describe("the command's compile cache", () => {
  it('is written by the first start, read unchanged by the next, and changes nothing the command prints', () => {
    const { cli, cache } = setup();
    const without = help(cli, cache, { NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(cacheFiles(cache).size).toBe(0);

    expect(help(cli, cache)).toBe(without);
    const file = bundleCache(cache);
    const first = statSync(file);
    // Private: a cache is code, and only its user may have written it.
    expect(first.mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);

    expect(help(cli, cache)).toBe(without);
    const second = statSync(file);
    // Taken as it was: not rejected, so not written again.
    expect(second.ino).toBe(first.ino);
    expect(second.mtimeMs).toBe(first.mtimeMs);
  });

  it('runs a file changed to the same length, with its old modification time, as it now reads', () => {
    const { cli, cache, bundle } = setup();
    // npm packs every file with the same modification time (1985-10-26).
    const packed = new Date('1985-10-26T08:15:00Z');
    utimesSync(bundle, packed, packed);
    expect(help(cli, cache)).toContain(marker);
    const before = statSync(bundle);
    // Rewritten in place (same inode) and given the packed time back: only the change time says
    // it is another file now.
    writeFileSync(bundle, readFileSync(bundle, 'utf8').replace(marker, changed));
    utimesSync(bundle, packed, packed);
    const after = statSync(bundle);
    expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);
    const out = help(cli, cache);
    expect(out).toContain(changed);
    expect(out).not.toContain(marker);
  });

  it('reads a cache only from a folder that no one else may write to', () => {
    const a = setup();
    // A second copy whose help text differs, at the same length: its cache, planted as the first
    // copy's, would make the first copy print the second's text.
    const other = copyCommand('other');
    const otherBundle = path.join(other, 'crucible.js');
    writeFileSync(otherBundle, readFileSync(otherBundle, 'utf8').replace(marker, changed));

    help(a.cli, a.cache);
    const target = bundleCache(a.cache);
    plantCache(path.join(other, 'main.js'), path.join(tmp, 'other-cache'), a.bundle, target);
    // The check's point: a cache that names the file is taken as its code.
    expect(help(a.cli, a.cache)).toContain(changed);

    plantCache(path.join(other, 'main.js'), path.join(tmp, 'other-cache'), a.bundle, target);
    const crucibleRoot = path.join(a.cache, 'crucible');
    chmodSync(crucibleRoot, 0o777);
    expect(help(a.cli, a.cache)).toContain(marker);
    chmodSync(crucibleRoot, 0o700);

    if (process.getuid?.() === 0) {
      // Owned by someone else (root may make it so), even if no one else may write to it now.
      plantCache(path.join(other, 'main.js'), path.join(tmp, 'other-cache'), a.bundle, target);
      chownSync(path.dirname(target), 65534, 65534);
      expect(help(a.cli, a.cache)).toContain(marker);
    }
  });

  it('hands V8 no cache cut short, and writes it again whole', () => {
    const { cli, cache } = setup();
    const expected = help(cli, cache);
    const file = bundleCache(cache);
    const whole = statSync(file).size;
    truncateSync(file, Math.floor(whole / 2));
    expect(help(cli, cache)).toBe(expected);
    expect(statSync(file).size).toBe(whole);
  });

  it('removes the caches of files that are no longer there, and works without any place for a cache', () => {
    const { cli, cache } = setup();
    help(cli, cache);
    const gone = path.join(path.dirname(bundleCache(cache)), 'chunks+gone-AbCd1234.js@other');
    writeFileSync(gone, 'a chunk of an older build');
    // Temporaries: one a start died writing two minutes ago, one another start is writing now.
    const died = path.join(path.dirname(gone), 'crucible.js@status.999999.tmp');
    const writing = path.join(path.dirname(gone), 'crucible.js@run.999998.tmp');
    writeFileSync(died, 'half a cache');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    utimesSync(died, twoMinutesAgo, twoMinutesAgo);
    writeFileSync(writing, 'half a cache');
    // The next start that writes a cache (here: the bundle's, removed) clears what has no file any more.
    rmSync(bundleCache(cache));
    help(cli, cache);
    expect(existsSync(gone)).toBe(false);
    expect(existsSync(died)).toBe(false);
    expect(existsSync(writing)).toBe(true);

    // A file where the cache's folder would be.
    const blocked = path.join(tmp, 'not-a-folder');
    writeFileSync(blocked, '');
    expect(help(cli, blocked)).toContain(marker);
    expect(readFileSync(blocked, 'utf8')).toBe('');
  });
});
