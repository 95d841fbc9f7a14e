#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useCompileCache } from './compile-cache.js';

/**
 * The `crucible` command's entry (dist/cli/main.js once bundled, scripts/build-cli.mjs): it turns
 * V8's code cache on before the command's code is compiled, then loads that code (src/cli/main.ts,
 * a chunk like every other). Kept this small because this file itself is compiled without a cache.
 */
useCompileCache(path.dirname(fileURLToPath(import.meta.url)));
void import('./main.js');
