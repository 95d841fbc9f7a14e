import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCliBuilt, cliPath } from '../helpers/project.js';

/**
 * The bundled command's code cache (src/cli/compile-cache.ts), on a copy of the bundle in a
 * package folder of its own: what a start writes, what a later start trusts, and that nothing it
 * finds there (a stale cache, a broken one, no room for one) changes what the command does.
 */

let pkg: string | undefined;
afterEach(() => {
  if (pkg) rmSync(pkg, { recursive: true, force: true });
  pkg = undefined;
});

beforeAll(() => checkCliBuilt());

/** A package folder holding a copy of dist/cli/ and a package.json, as an install has them. */
function copyOfBundle(): { main: string; chunks: string; cacheRoot: string } {
  pkg = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-compile-cache-')));
  const cli = path.join(pkg, 'dist', 'cli');
  cpSync(path.dirname(cliPath), cli, { recursive: true, filter: (from) => path.basename(from) !== '.compile-cache' });
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'autocrucible', version: '9.9.9' }));
  return { main: path.join(cli, 'main.js'), chunks: path.join(cli, 'chunks'), cacheRoot: path.join(cli, '.compile-cache') };
}

function crucible(main: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [main, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every cache file (path → modification time), across the V8 folders under `cacheRoot`. */
function cacheFiles(cacheRoot: string): Map<string, number> {
  const files = new Map<string, number>();
  if (!existsSync(cacheRoot)) return files;
  for (const v8 of readdirSync(cacheRoot)) {
    for (const name of readdirSync(path.join(cacheRoot, v8))) {
      const file = path.join(cacheRoot, v8, name);
      files.set(file, statSync(file).mtimeMs);
    }
  }
  return files;
}

/** A cache file's own header: a tag, then the chunk file's device, inode, size, modification and change times. */
const HEADER_BYTES = 48;
function headerFor(chunk: string, tag: Buffer): Buffer {
  const stat = statSync(chunk, { bigint: true });
  const header = Buffer.alloc(HEADER_BYTES);
  tag.copy(header, 0, 0, 8);
  [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].forEach((value, i) => header.writeBigUInt64LE(value, 8 * (i + 1)));
  return header;
}

const mainChunkOf = (chunks: string): string => {
  const name = readdirSync(chunks).find((n) => /^main-.*\.js$/.test(n));
  if (!name) throw new Error(`no main chunk in ${chunks}`);
  return path.join(chunks, name);
};

// Node 22.1 and later keep the cache themselves (module.enableCompileCache): these are about crucible's own, before that.
const nodeKeepsIt = typeof (Module as unknown as { enableCompileCache?: unknown }).enableCompileCache === 'function';

describe.skipIf(nodeKeepsIt)('the code cache of the bundled command', () => {
  it('is written by the first start, for the chunks it ran, and then used as it is', () => {
    const { main, chunks, cacheRoot } = copyOfBundle();
    const uncached = crucible(main, ['--help'], { CRUCIBLE_COMPILE_CACHE: '0' });
    expect(uncached.code).toBe(0);
    expect(existsSync(cacheRoot), 'CRUCIBLE_COMPILE_CACHE=0 writes nothing').toBe(false);

    const first = crucible(main, ['--help']);
    expect(first).toEqual(uncached);
    const written = cacheFiles(cacheRoot);
    expect([...written.keys()].map((f) => path.basename(f))).toContain(`${path.basename(mainChunkOf(chunks))}.v8`);
    // No temporary file is left beside them.
    expect([...written.keys()].filter((f) => !f.endsWith('.js.v8'))).toEqual([]);

    // A later start compiles from the cache: a cache it could not use would be written again.
    const second = crucible(main, ['--help']);
    expect(second).toEqual(uncached);
    expect(cacheFiles(cacheRoot)).toEqual(written);
  });

  it('never runs a chunk from the cache of what the chunk was before it changed, even at the same length', () => {
    const { main, chunks, cacheRoot } = copyOfBundle();
    const chunk = mainChunkOf(chunks);
    // npm gives every file it installs one fixed modification time.
    const npmTime = new Date('1985-10-26T08:15:00Z');
    utimesSync(chunk, npmTime, npmTime);
    expect(crucible(main, ['--help']).stdout).toContain('Autonomous experiment loop');
    expect(cacheFiles(cacheRoot).size).toBeGreaterThan(0);
    // V8 checks only a source's length: the cache written for the old text would print the old text.
    const before = readFileSync(chunk, 'utf8');
    const after = before.replace('Autonomous experiment loop', 'AUTONOMOUS EXPERIMENT LOOP');
    expect(after.length).toBe(before.length);
    writeFileSync(chunk, after);
    // And npm's time put back: the change time still tells.
    utimesSync(chunk, npmTime, npmTime);

    const changed = crucible(main, ['--help']);
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('AUTONOMOUS EXPERIMENT LOOP');
    expect(changed.stdout).not.toContain('Autonomous experiment loop');
  });

  it('never reads a cache from a folder another user could write: a forged cache there is not run', () => {
    const { main, chunks, cacheRoot } = copyOfBundle();
    crucible(main, ['--help']);
    const chunk = mainChunkOf(chunks);
    const file = [...cacheFiles(cacheRoot).keys()].find((f) => path.basename(f) === `${path.basename(chunk)}.v8`);
    if (!file) throw new Error('no cache for the main chunk');
    // Another user who can write the cache folder changes nothing in the chunk's text but its
    // length-preserving edit, and forges the header of the old cache to name the changed file.
    const before = readFileSync(chunk, 'utf8');
    writeFileSync(chunk, before.replace('Autonomous experiment loop', 'AUTONOMOUS EXPERIMENT LOOP'));
    const old = readFileSync(file);
    writeFileSync(file, Buffer.concat([headerFor(chunk, old.subarray(0, 8)), old.subarray(HEADER_BYTES)]));
    chmodSync(path.dirname(file), 0o777);

    const result = crucible(main, ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('AUTONOMOUS EXPERIMENT LOOP');
  });

  it('keeps a cache of its own for starts under other Node options, so that neither writes the other over', () => {
    const { main, cacheRoot } = copyOfBundle();
    const plain = crucible(main, ['--help']);
    const alone = cacheFiles(cacheRoot);
    expect(alone.size).toBeGreaterThan(0);
    // A V8 flag (one users set) changes what V8 accepts: a cache made without it is turned down under it.
    const flagged = crucible(main, ['--help'], { NODE_OPTIONS: '--max-old-space-size=512' });
    expect(flagged).toEqual(plain);
    const both = cacheFiles(cacheRoot);
    for (const [file, mtime] of alone) expect(both.get(file), file).toBe(mtime);
    expect(both.size).toBeGreaterThan(alone.size);
    // And each is used as it is from then on.
    crucible(main, ['--help'], { NODE_OPTIONS: '--max-old-space-size=512' });
    crucible(main, ['--help']);
    expect(cacheFiles(cacheRoot)).toEqual(both);
  });

  it('writes again a cache that V8 turns down, and the command runs as without one', () => {
    const { main, chunks, cacheRoot } = copyOfBundle();
    const uncached = crucible(main, ['--help'], { CRUCIBLE_COMPILE_CACHE: '0' });
    crucible(main, ['--help']);
    const file = [...cacheFiles(cacheRoot).keys()].find((f) => path.basename(f) === `${path.basename(mainChunkOf(chunks))}.v8`);
    if (!file) throw new Error('no cache for the main chunk');
    const good = readFileSync(file);
    // The file's own header (which chunk file it is for) kept; V8's part overwritten with noise.
    const broken = Buffer.concat([good.subarray(0, HEADER_BYTES), Buffer.alloc(good.length - HEADER_BYTES, 0x5a)]);
    writeFileSync(file, broken);

    expect(crucible(main, ['--help'])).toEqual(uncached);
    const rewritten = readFileSync(file);
    expect(rewritten.equals(broken)).toBe(false);
    expect(rewritten.subarray(0, HEADER_BYTES).equals(good.subarray(0, HEADER_BYTES))).toBe(true);
    expect(crucible(main, ['--help'])).toEqual(uncached);
  });

  it('leaves the command as it was where no cache folder can be made', () => {
    const { main, cacheRoot } = copyOfBundle();
    const uncached = crucible(main, ['--help'], { CRUCIBLE_COMPILE_CACHE: '0' });
    // A file where the folder would be: mkdir fails for root as for anyone.
    writeFileSync(cacheRoot, 'not a folder');
    expect(crucible(main, ['--help'])).toEqual(uncached);
    expect(crucible(main, ['--version'])).toEqual({ code: 0, stdout: '9.9.9\n', stderr: '' });
    expect(readFileSync(cacheRoot, 'utf8')).toBe('not a folder');
  });
});
