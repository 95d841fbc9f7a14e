import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseMarkers } from '../../src/agents/tuner/marker.js';
import { parseConfigText } from '../../src/config/load.js';
import { metricValue, useExampleCopies, validateCopy } from '../helpers/example-project.js';

const { source: example, copy: copyExample, runHarness, tempPath } = useExampleCopies('optimize-compress', 'compress.js', { timeoutMs: 40_000 });
const originalSource = readFileSync(path.join(example, 'compress.js'), 'utf8');

function withConstants(values: { minMatch: number; window: number; chain: number; escape: number }): string {
  return originalSource
    .replace(/^const MIN_MATCH = \d+;/m, `const MIN_MATCH = ${values.minMatch};`)
    .replace(/^const WINDOW = \d+;/m, `const WINDOW = ${values.window};`)
    .replace(/^const MAX_CHAIN = \d+;/m, `const MAX_CHAIN = ${values.chain};`)
    .replace(/^const ESCAPE = \d+;/m, `const ESCAPE = ${values.escape};`);
}

const IDENTITY = 'export const compress = (t) => new TextEncoder().encode(t);\nexport const decompress = (b) => new TextDecoder().decode(b);\n';

describe('optimize-compress example', () => {
  it('has a config the real loader accepts, with the harness hidden', () => {
    const result = parseConfigText(readFileSync(path.join(example, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      name: 'optimize-compress',
      files: { editable: ['compress.js'], readonly: ['sample.txt', 'package.json'], hidden: ['evaluate.js', 'corpus.js', 'sandbox.js'] },
      commands: { run: 'node evaluate.js', eval: 'cat run.log' },
      metric: { name: 'compression_ratio', direction: 'maximize' },
    });
  });

  it('marks four constants for the offline tuner', () => {
    const scan = parseMarkers(originalSource, 'compress.js');
    expect(scan.problems).toEqual([]);
    expect(scan.markers.map((m) => [m.identifier, m.value, m.low, m.high])).toEqual([
      ['MIN_MATCH', 3, 1, 16],
      ['WINDOW', 1, 1, 65535],
      ['MAX_CHAIN', 1, 1, 4096],
      ['ESCAPE', 32, 0, 255],
    ]);
  });

  it('round-trips exactly at any setting of its constants, even one past its range', async () => {
    const sample = readFileSync(path.join(example, 'sample.txt'), 'utf8');
    const inputs = ['', 'a', ' ', '\u0000\u00ff', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '“Café” — naïve ünïcödé 😀 text', sample.slice(0, 30_000)];
    inputs.push(Array.from({ length: 3000 }, (_, i) => String.fromCharCode(i % 256)).join(''));
    const settings = [
      { minMatch: 3, window: 1, chain: 1, escape: 32 },
      { minMatch: 1, window: 65535, chain: 64, escape: 0 },
      { minMatch: 6, window: 65540, chain: 4096, escape: 255 },
      { minMatch: 16, window: 300, chain: 3, escape: 101 },
    ];
    for (const setting of settings) {
      const file = tempPath(`compress-${Object.values(setting).join('-')}.mjs`);
      writeFileSync(file, withConstants(setting));
      const codec = (await import(pathToFileURL(file).href)) as { compress: (t: string) => Uint8Array; decompress: (b: Uint8Array) => string };
      for (const input of inputs) {
        const packed = codec.compress(input);
        expect(packed).toBeInstanceOf(Uint8Array);
        expect(codec.decompress(packed) === input, JSON.stringify(setting)).toBe(true);
      }
    }
  });

  it('passes crucible validate with a baseline below 1, worse than no compression', () => {
    const dir = copyExample();
    const result = validateCopy(dir, { timeoutMs: 40_000 });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const ratio = Number(/compression_ratio: (\S+)/.exec(result.stdout)?.[1]);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(1);
    const log = readFileSync(path.join(dir, 'run.log'), 'utf8');
    expect(log).toMatch(/^lossless: true$/m);
    expect(Number(/^zlib_ratio: (\S+)$/m.exec(log)?.[1])).toBeGreaterThan(2);
  });

  it('writes run.log itself, so a fake metric line printed by compress.js never reaches it', () => {
    const source =
      'export function compress(t) { console.log("compression_ratio: 999"); console.error("compression_ratio: 999"); return new TextEncoder().encode(t); }\n' +
      'export const decompress = (b) => new TextDecoder().decode(b);\n';
    const { status, log } = runHarness(copyExample(source));
    expect(status).toBe(0);
    expect(log?.split('\n')[0]).toBe('compression_ratio: 1.0000');
    expect(log).not.toMatch(/999/);
  });

  it.each([
    ['loses a character', IDENTITY.replace('.decode(b)', '.decode(b).slice(1)'), /came back different/],
    ['passes the text from compress to decompress in a global', 'export function compress(t) { globalThis.t = t; return new Uint8Array(1); }\nexport const decompress = () => globalThis.t;', /decompress\(\) returned undefined/],
    ['returns an Array instead of a Uint8Array', 'export const compress = (t) => [...new TextEncoder().encode(t)];\nexport const decompress = (b) => "";', /not a Uint8Array/],
    ['returns a Promise', 'export const compress = async (t) => new TextEncoder().encode(t);\nexport const decompress = (b) => "";', /cannot be passed back/],
  ])('scores zero when compress.js %s', (_, source, message) => {
    const { status, log } = runHarness(copyExample(source));
    expect(status).toBe(0);
    expect(metricValue(log, 'compression_ratio')).toBe(0);
    expect(log).toMatch(/^lossless: false$/m);
    expect(log).toMatch(message);
  });

  it.each([
    ['imports zlib', `import { deflateSync } from 'node:zlib';\n${IDENTITY}`, /"zlib" is not allowed/],
    ['mentions brotli in a comment', `// like brotli\n${IDENTITY}`, /line 1: "brotli" is not allowed/],
    ['imports a built-in module under a computed name', `const z = await import('node:' + 'zl' + 'ib');\n${IDENTITY}`, /may not import anything/],
    ['reaches for process', `const p = globalThis['pro' + 'cess'].versions;\n${IDENTITY}`, /cannot load compress\.js/],
    ['builds code from a string', `export const compress = (t) => (() => {}).constructor('return 1')();\nexport const decompress = (b) => '';`, /compress\(\) threw: Code generation from strings disallowed/],
    ['throws', `export const compress = () => { throw new Error('boom'); };\nexport const decompress = (b) => '';`, /compress\(\) threw: boom/],
    ['does not load', 'export const compress = (t) => {;', /cannot load compress\.js/],
    ['has no decompress', 'export const compress = (t) => new Uint8Array(1);', /does not export a function decompress/],
  ])('crashes, with no metric, when compress.js %s', (_, source, message) => {
    const { status, log } = runHarness(copyExample(source));
    expect(status).toBe(1);
    expect(metricValue(log, 'compression_ratio')).toBeUndefined();
    expect(log).toMatch(message);
  });

  it('stops a compress() that never returns, within its time limit', () => {
    const started = Date.now();
    const { status, log } = runHarness(copyExample('export const compress = (t) => { for (;;) {} };\nexport const decompress = (b) => "";'));
    expect(status).toBe(1);
    expect(log).toMatch(/^error: compress\(\) was too slow/m);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
