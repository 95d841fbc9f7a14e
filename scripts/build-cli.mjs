/**
 * `npm run build`, second step: the `crucible` command as one bundle, in CommonJS.
 *
 *   node scripts/build-cli.mjs [--meta]
 *
 * tsc has already written the library (dist/index.js, dist/<layer>/, .d.ts). Node resolves and
 * reads every ES module of an unbundled CLI one by one (246 files for `crucible run`, zod alone 95),
 * which was most of a read command's start-up. Here rolldown bundles the command into
 * dist/cli/main.js (behind a few shell lines: SHELL_LAUNCHER below), a small entry
 * (src/cli/launch.ts) that turns V8's code cache on and then imports src/cli/main.ts, itself a
 * chunk; each command's module, imported dynamically when the command runs, becomes a chunk in
 * dist/cli/chunks/, so `--help` loads two files and `status` a few. Every chunk's name holds its
 * content's hash, which the code cache relies on (src/cli/compile-cache.ts); the cache's folder,
 * dist/cli/.compile-cache/, goes with the rest.
 *
 * The bundle is CommonJS (dist/cli/package.json says so; the package is ESM): Node starts its ES
 * module loader only when something is imported, and that start cost `--help` and `status` about
 * 15 ms here (docs/decisions.md 48). The model SDKs are still imported (`import()`), as ES modules.
 *
 * commander, yaml and zod are bundled. The model SDKs stay external and are imported
 * from node_modules only when a backend needs them: the Agent SDK is an optional peer (absent on
 * most installs), and `ai`/`@ai-sdk/*` are large and load only when an api agent is built.
 *
 * --meta prints which source files each output chunk holds (what a command loads).
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'cli');
const external = [/^@anthropic-ai\/claude-agent-sdk(\/|$)/, /^ai(\/|$)/, /^@ai-sdk\//];

// Chunks are named by content hash: clear the old ones so dist/ never ships a stale chunk.
rmSync(outDir, { recursive: true, force: true });

/**
 * commander loads node:child_process when it is loaded, for subcommands that are executables of
 * their own, which crucible has none of: that load (net, dgram and the streams with it, about 3 ms
 * here) is made lazy, so `--help` and the read commands do not pay for it.
 */
const lazyChildProcessInCommander = {
  name: 'lazy-child-process-in-commander',
  transform(code, id) {
    if (!/[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/.test(id)) return null;
    const eager = "const childProcess = require('node:child_process');";
    if (!code.includes(eager)) this.error(`${id}: commander no longer loads child_process as this build expects; update ${path.basename(fileURLToPath(import.meta.url))}`);
    // On the same line: no code moves, so the source map stays right (map: null says so).
    const lazy = "let loadedChildProcess; const childProcess = { spawn: (...args) => (loadedChildProcess ??= require('node:child_process')).spawn(...args) };";
    return { code: code.replace(eager, lazy), map: null };
  },
};

/**
 * The entry starts as a POSIX shell script that execs Node on itself: each line below is a shell
 * command to sh and, to Node, a string followed by a comment (`':' //;`). It lets the read
 * commands start without NODE_EXTRA_CA_CERTS, which Node 20 reads, with its own bundled roots,
 * as it starts, before any of crucible runs: about 40 ms of every start where the variable is set
 * (nodejs/node#40524), more than the rest of `crucible status`. Those commands (and `postmortem`
 * without `--ai`) open no TLS connection and start no process. The value is handed on in
 * CRUCIBLE_HELD_EXTRA_CA_CERTS, and launch.ts puts it back in the environment at once: only
 * Node's start skips it. Every other command (run, validate, wizard, postmortem --ai, ...) starts
 * as before. No shell variable is set but the one handed on: the argument walk is a function of
 * its own arguments.
 * `node dist/cli/main.js` runs the file as JavaScript, with nothing stripped.
 */
const SHELL_LAUNCHER = [
  '#!/bin/sh',
  `':' //; crucible_reads_only() { while [ "$#" -gt 0 ]; do case $1 in -C|--project-dir) [ "$#" -gt 1 ] && shift ;; -h|--help|-V|--version|status|history|compare|help) return 0 ;; postmortem) while [ "$#" -gt 0 ]; do [ "$1" = --ai ] && return 1; shift; done; return 0 ;; -*) ;; *) return 1 ;; esac; shift; done; return 0; }`,
  `':' //; if [ -n "\${NODE_EXTRA_CA_CERTS+set}" ] && crucible_reads_only "$@"; then CRUCIBLE_HELD_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export CRUCIBLE_HELD_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; fi`,
  `':' //; exec node "$0" "$@"`,
];

function useShellLauncher(entry) {
  const code = readFileSync(entry, 'utf8');
  const hashbang = '#!/usr/bin/env node\n';
  if (!code.startsWith(hashbang)) throw new Error(`${entry} does not start with ${hashbang.trim()}: the launcher cannot replace it`);
  writeFileSync(entry, `${SHELL_LAUNCHER.join('\n')}\n${code.slice(hashbang.length)}`);
  // The lines added shift the generated code down: so do its source map's lines (one ';' each).
  const mapFile = `${entry}.map`;
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  map.mappings = `${';'.repeat(SHELL_LAUNCHER.length - 1)}${map.mappings}`;
  writeFileSync(mapFile, JSON.stringify(map));
  // Run as the installed command is (npm links it and marks it executable): directly.
  chmodSync(entry, 0o755);
}

const result = await build({
  // The entry turns V8's code cache on, then imports src/cli/main.ts: a chunk, so that the
  // cache serves it too (src/cli/compile-cache.ts).
  input: path.join(root, 'src', 'cli', 'launch.ts'),
  platform: 'node',
  external,
  plugins: [lazyChildProcessInCommander],
  // tsconfig.json's settings (target ES2022, verbatimModuleSyntax) for the TypeScript transform.
  tsconfig: path.join(root, 'tsconfig.json'),
  logLevel: 'warn',
  output: {
    dir: outDir,
    format: 'cjs',
    entryFileNames: 'main.js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    // The maps name src/*.ts, so a crash report (main.ts maps its stack) points at our files. The
    // sources are not copied in: file, line and column are what a report needs, and the package
    // stays small (the maps with sources were 2.6 MB, yaml's and zod's mostly).
    sourcemap: true,
    sourcemapExcludeSources: true,
    // No comments: Node parses every byte of a chunk it loads, and commander's command.js alone is
    // 87 KB, mostly JSDoc. Lines and names stay (no minifying): stacks stay readable, and the
    // maps still name the source lines.
    comments: false,
    // Not minified either, but every chunk ASCII (\u escapes; the strings are the same): V8 keeps
    // a file with one "→" in two bytes a character, twice the memory and a slower scan.
    minify: { compress: false, mangle: false, codegen: { removeWhitespace: false, asciiOnly: true } },
  },
});

// The nearest package.json decides how Node reads a .js file: these are CommonJS.
mkdirSync(outDir, { recursive: true });
useShellLauncher(path.join(outDir, 'main.js'));
writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);

if (process.argv.includes('--meta')) {
  for (const chunk of result.output) {
    if (chunk.type !== 'chunk') continue;
    const modules = Object.keys(chunk.modules);
    // node_modules may be a link (to another checkout's): name packages by what follows it.
    const packages = new Set(modules.map((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m)?.[1]).filter(Boolean));
    const own = modules.filter((m) => !m.includes('node_modules'));
    process.stdout.write(`${chunk.fileName} (${Math.round(chunk.code.length / 1024)} KiB${chunk.isDynamicEntry ? ', loaded on demand' : ''}): ${own.length} source files; packages: ${[...packages].join(', ') || 'none'}; imports: ${[...chunk.imports, ...chunk.dynamicImports.map((d) => `${d} (dynamic)`)].join(', ') || 'none'}\n`);
  }
}
