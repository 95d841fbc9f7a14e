import { createRequire } from 'node:module';
import type * as Zlib from 'node:zlib';

const require = createRequire(import.meta.url);
let loaded: typeof Zlib | undefined;

/**
 * node:zlib, loaded on first use. The ledger's and results.tsv's readers share their modules with
 * the run, which compresses what it keeps of them (store/compressed-lines.ts); a read command
 * (`status`, `history`) compresses nothing, and loading zlib cost it about 5 ms here.
 */
export function zlib(): typeof Zlib {
  loaded ??= require('node:zlib') as typeof Zlib;
  return loaded;
}
