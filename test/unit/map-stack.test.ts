import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'rolldown';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapStack } from '../../src/cli/map-stack.js';

/**
 * The crash report of the bundled command: a real rolldown bundle with its maps, a real throw in
 * a real process, and the stack it printed mapped back to the TypeScript line that threw.
 */

let tmp: string;
let stack: string;
let cjsStack: string;

beforeAll(async () => {
  tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-map-stack-')));
  mkdirSync(path.join(tmp, 'src'));
  writeFileSync(path.join(tmp, 'src', 'main.ts'), "import { explode } from './explode.js';\n\ntry {\n  explode(3);\n} catch (error) {\n  process.stdout.write((error as Error).stack ?? '');\n}\n");
  // The throw sits on line 4, column 9 of explode.ts: types and comments shift it in the output.
  writeFileSync(path.join(tmp, 'src', 'explode.ts'), 'interface Fuse { length: number }\n// a comment that the bundle drops\nexport function explode(length: Fuse["length"]): never {\n  throw new Error(`boom after ${length}`);\n}\n');
  await build({ input: path.join(tmp, 'src', 'main.ts'), platform: 'node', logLevel: 'silent', output: { dir: path.join(tmp, 'dist'), format: 'esm', sourcemap: true } });
  const run = spawnSync(process.execPath, [path.join(tmp, 'dist', 'main.js')], { encoding: 'utf8' });
  stack = run.stdout;
  // The command's own bundle is CommonJS (scripts/build-cli.mjs): its frames are plain paths.
  await build({ input: path.join(tmp, 'src', 'main.ts'), platform: 'node', logLevel: 'silent', output: { dir: path.join(tmp, 'dist-cjs'), format: 'cjs', sourcemap: true } });
  writeFileSync(path.join(tmp, 'dist-cjs', 'package.json'), '{"type":"commonjs"}\n');
  cjsStack = spawnSync(process.execPath, [path.join(tmp, 'dist-cjs', 'main.js')], { encoding: 'utf8' }).stdout;
}, 30_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('mapStack', () => {
  it('names the TypeScript file, line and column that threw', () => {
    expect(stack).toContain(`${path.join(tmp, 'dist', 'main.js')}`);
    const mapped = mapStack(stack, path.join(tmp, 'dist'));
    expect(mapped).toContain('Error: boom after 3');
    expect(mapped).toContain(`${path.join(tmp, 'src', 'explode.ts')}:4:9`);
    expect(mapped).not.toContain('dist/main.js');
  });

  it('maps the frames of a CommonJS bundle, which name plain paths', () => {
    expect(cjsStack).toContain(`(${path.join(tmp, 'dist-cjs', 'main.js')}:`);
    const mapped = mapStack(cjsStack, path.join(tmp, 'dist-cjs'));
    expect(mapped).toContain('Error: boom after 3');
    expect(mapped).toContain(`${path.join(tmp, 'src', 'explode.ts')}:4:9`);
    expect(mapped).not.toContain('dist-cjs/main.js');
  });

  it('leaves a frame as it was when its map cannot be read', () => {
    const dist = path.join(tmp, 'dist');
    expect(mapStack(stack, dist, () => { throw new Error('ENOENT'); })).toBe(stack);
    expect(mapStack(stack, dist, () => 'not json')).toBe(stack);
  });

  it('reads no map outside the bundle folder, and none for a path the message quotes', () => {
    const read: string[] = [];
    const readMap = (file: string): string => {
      read.push(file);
      throw new Error('ENOENT');
    };
    const inMessage = `Error: cannot parse file://${path.join(tmp, 'dist', 'main.js')}:1:1\n    at foo (node:internal/modules/run_main:1:2)`;
    expect(mapStack(inMessage, path.join(tmp, 'dist'), readMap)).toBe(inMessage);
    expect(mapStack(stack, path.join(tmp, 'elsewhere'), readMap)).toBe(stack);
    expect(read).toEqual([]);
  });
});
