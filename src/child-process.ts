import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let loaded: typeof import('node:child_process') | undefined;

/**
 * node:child_process, loaded on first use. Loading it brings net, dgram and the streams with it
 * (about 3 ms here): a read command (`status`, `history`) that starts no process never pays.
 */
export function childProcess(): typeof import('node:child_process') {
  loaded ??= require('node:child_process') as typeof import('node:child_process');
  return loaded;
}
