import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCompileCache } from '../../src/cli/compile-cache.js';

/**
 * The code cache's wrap of CommonJS's compile step, in this process, on chunks of a bundle made
 * here: a chunk it compiles must behave as one Node compiles (require, module, exports, its file
 * names), and a chunk that imports an ES module must still import it. The whole command, its
 * cache files and what a later start does with them: test/e2e/compile-cache.test.ts.
 */

let dir: string;
let load: NodeJS.Require;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-compile-cache-loader-')));
  const chunks = path.join(dir, 'cli', 'chunks');
  mkdirSync(chunks, { recursive: true });
  writeFileSync(path.join(dir, 'cli', 'package.json'), JSON.stringify({ type: 'commonjs' }));
  writeFileSync(path.join(chunks, 'shared-A1.js'), 'exports.value = 41;\n');
  writeFileSync(
    path.join(chunks, 'plain-B2.js'),
    [
      "const shared = require('./shared-A1.js');",
      "const nodePath = require('node:path');",
      'module.exports = { answer: shared.value + 1, file: __filename, dir: __dirname, resolved: require.resolve("./shared-A1.js"), sep: nodePath.sep, sameCache: require.cache === require("node:module")._cache };',
    ].join('\n'),
  );
  writeFileSync(path.join(chunks, 'imports-C3.js'), 'exports.cpus = () => import("node:os").then((os) => typeof os.cpus);\n');
  useCompileCache(path.join(dir, 'cli'));
  load = createRequire(path.join(dir, 'cli', 'main.js'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Node 22.1 and later keep the cache themselves (module.enableCompileCache): no wrap to test there.
describe.skipIf(typeof (Module as unknown as { enableCompileCache?: unknown }).enableCompileCache === 'function')('a chunk compiled for the code cache', () => {
  it('sees require, module, exports, __filename and __dirname as under Node', () => {
    const chunk = path.join(dir, 'cli', 'chunks', 'plain-B2.js');
    expect(load('./chunks/plain-B2.js')).toEqual({
      answer: 42,
      file: chunk,
      dir: path.dirname(chunk),
      resolved: path.join(dir, 'cli', 'chunks', 'shared-A1.js'),
      sep: path.sep,
      sameCache: true,
    });
    // One module, as Node keeps it: a second require gives the same object.
    expect(load('./chunks/plain-B2.js')).toBe(load('./chunks/plain-B2.js'));
  });

  it('still imports an ES module with import()', async () => {
    const chunk = load('./chunks/imports-C3.js') as { cpus(): Promise<string> };
    await expect(chunk.cpus()).resolves.toBe('function');
  });
});
