// evaluate.js: the fixed harness of optimize-compress. Hidden from the agent.
//
// It generates a few English-like documents from a seed nobody else knows, compresses each one
// with compress() in one sandboxed process, decompresses the results with decompress() in a
// second, fresh one (so nothing can be remembered between the two), checks that every document
// comes back exactly, and computes the ratio itself: original UTF-8 bytes / compressed bytes,
// over all documents together.
//
// Writes run.log (and prints the same lines):
//   compression_ratio  the metric; 0 when any document does not come back exactly
//   zlib_ratio         what Node's zlib (deflate, level 9) reaches on the same texts, for reference
//   lossless, original_bytes, compressed_bytes, compress_ms, decompress_ms, ratio_<document>
// compress.js that cannot be loaded, throws, is too slow or uses a built-in compressor: exit 1,
// no metric (crucible records a crash), and an "error:" line saying why.
//
// `node evaluate.js --sample` prints the public sample text instead (sample.txt is made with it).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { generateText } from './corpus.js';
import { SandboxError, startSandbox } from './sandbox.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.join(HERE, 'compress.js');
const LOG = path.join(HERE, 'run.log');

// The scored documents come from this seed; sample.txt from SAMPLE_SEED.
const SECRET_SEED = 0x7c3e91a5;
const SAMPLE_SEED = 1;
const SAMPLE_BYTES = 100_000;
const DOCUMENTS = [
  { label: 'short', bytes: 12_000 },
  { label: 'medium', bytes: 60_000 },
  { label: 'long', bytes: 240_000 },
];
// Wall-clock limits for each process, loading compress.js included: a few seconds of work on a
// slow shared machine. A slower compress.js is a crash, not a hang.
const COMPRESS_LIMIT_MS = 10_000;
const DECOMPRESS_LIMIT_MS = 10_000;
// Built-in compressors are off limits. These words may not appear in compress.js at all.
const FORBIDDEN = [/zlib/i, /brotli/i, /CompressionStream/, /process\s*\.\s*binding/, /getBuiltinModule/];

const lines = [];
const report = (key, value) => lines.push(`${key}: ${value}`);

if (process.argv.includes('--sample')) {
  process.stdout.write(generateText(SAMPLE_SEED, SAMPLE_BYTES));
} else {
  // A run.log left by an earlier experiment must never be read as this one's.
  writeFileSync(LOG, '');
  main()
    .catch((error) => {
      if (!(error instanceof SandboxError)) throw error;
      report('error', oneLine(error.message));
      process.exitCode = 1;
    })
    .finally(() => {
      // Written last and whole: whatever else wrote run.log, this is what eval reads.
      const text = `${lines.join('\n')}\n`;
      writeFileSync(LOG, text);
      process.stdout.write(text);
    });
}

async function main() {
  const source = readFileSync(SOURCE, 'utf8');
  for (const pattern of FORBIDDEN) {
    const at = source.search(pattern);
    if (at !== -1) {
      const line = source.slice(0, at).split('\n').length;
      throw new SandboxError(`compress.js line ${line}: "${source.slice(at).match(pattern)[0]}" is not allowed (no built-in compressors)`);
    }
  }

  const texts = DOCUMENTS.map((doc, i) => generateText(deriveSeed(SECRET_SEED, i), doc.bytes));
  const sizes = texts.map((text) => Buffer.byteLength(text, 'utf8'));

  const compressed = [];
  const compressMs = await inSandbox('compress', COMPRESS_LIMIT_MS, async (call) => {
    for (let i = 0; i < texts.length; i++) {
      const reply = await call(texts[i]);
      if (reply.kind === 'malformed') return wrong(`compress() on the ${DOCUMENTS[i].label} document: ${reply.message}`);
      const bytes = reply.value instanceof Uint8Array ? new Uint8Array(reply.value) : null;
      if (bytes === null) return wrong(`compress() returned ${describeValue(reply.value)} for the ${DOCUMENTS[i].label} document, not a Uint8Array`);
      compressed.push(bytes);
    }
  });
  if (compressMs === null) return;

  const decompressMs = await inSandbox('decompress', DECOMPRESS_LIMIT_MS, async (call) => {
    for (let i = 0; i < texts.length; i++) {
      const reply = await call(compressed[i]);
      if (reply.kind === 'malformed') return wrong(`decompress() on the ${DOCUMENTS[i].label} document: ${reply.message}`);
      const text = reply.value;
      if (typeof text !== 'string') return wrong(`decompress() returned ${describeValue(text)} for the ${DOCUMENTS[i].label} document, not a string`);
      if (text !== texts[i]) return wrong(`the ${DOCUMENTS[i].label} document came back different: ${firstDifference(texts[i], text)}`);
    }
  });
  if (decompressMs === null) return;

  const original = sizes.reduce((a, b) => a + b, 0);
  const packed = compressed.reduce((sum, bytes) => sum + bytes.length, 0);
  const zlibPacked = texts.reduce((sum, text) => sum + deflateSync(Buffer.from(text, 'utf8'), { level: 9 }).length, 0);
  report('compression_ratio', (original / Math.max(1, packed)).toFixed(4));
  report('zlib_ratio', (original / zlibPacked).toFixed(4));
  report('lossless', 'true');
  report('original_bytes', original);
  report('compressed_bytes', packed);
  report('compress_ms', Math.round(compressMs));
  report('decompress_ms', Math.round(decompressMs));
  DOCUMENTS.forEach((doc, i) => report(`ratio_${doc.label}`, (sizes[i] / Math.max(1, compressed[i].length)).toFixed(4)));
}

/**
 * Runs `role` in a fresh sandbox within `limitMs`; `work(call)` makes the calls, each answered
 * { kind: 'result', value } or { kind: 'malformed', message }. Returns the time spent in calls,
 * or null when work() found a wrong result. A call that throws, a child
 * that dies or the time limit throws a SandboxError (a crash).
 */
async function inSandbox(role, limitMs, work) {
  const deadline = performance.now() + limitMs;
  const sandbox = await startSandbox(SOURCE, role, deadline);
  let spent = 0;
  try {
    const verdict = await work(async (input) => {
      const { reply, ms } = await sandbox.call(input, deadline);
      spent += ms;
      if (reply.kind === 'error') throw new SandboxError(`${role}() threw: ${reply.message}`);
      return reply;
    });
    return verdict === false ? null : spent;
  } finally {
    sandbox.kill();
  }
}

/** A result that is not the text back: the metric is 0, and the run still succeeds. */
function wrong(why) {
  report('compression_ratio', '0');
  report('lossless', 'false');
  report('error', oneLine(why));
  return false;
}

function firstDifference(expected, actual) {
  if (actual.length !== expected.length) {
    let i = 0;
    while (i < Math.min(expected.length, actual.length) && expected[i] === actual[i]) i++;
    return `${actual.length} characters instead of ${expected.length}, first difference at character ${i}`;
  }
  let i = 0;
  while (expected[i] === actual[i]) i++;
  return `character ${i} differs`;
}

function describeValue(value) {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'an object';
}

function oneLine(text) {
  return text.replace(/\s+/g, ' ').trim().slice(0, 400);
}

function deriveSeed(seed, index) {
  let z = (seed + Math.imul(index + 1, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
