#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useCompileCache } from './compile-cache.js';

/**
 * The `crucible` command's entry (dist/cli/main.js once bundled, scripts/build-cli.mjs): it turns
 * V8's code cache on before the command's code is compiled, then loads that code (src/cli/main.ts,
 * a chunk like every other). Kept this small because this file itself is compiled without a cache.
 */
// The installed command's shell lines (scripts/build-cli.mjs) start the read commands without
// NODE_EXTRA_CA_CERTS, which Node reads as it starts: it goes back at once, so that whatever this
// process starts, and crucible itself, see the environment as the user set it.
const heldCaCerts = process.env['CRUCIBLE_HELD_EXTRA_CA_CERTS'];
if (heldCaCerts !== undefined) {
  delete process.env['CRUCIBLE_HELD_EXTRA_CA_CERTS'];
  process.env['NODE_EXTRA_CA_CERTS'] ??= heldCaCerts;
}
useCompileCache(path.dirname(fileURLToPath(import.meta.url)));
void import('./main.js');
