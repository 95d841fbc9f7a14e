import type * as ChildProcess from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let loaded: typeof ChildProcess | undefined;

/**
 * node:child_process, loaded on first use. Loading it brings net, dgram and the streams with it
 * (about 3 ms here): a read command (`status`, `history`) that starts no process never pays.
 */
export function childProcess(): typeof ChildProcess {
  loaded ??= require('node:child_process') as typeof ChildProcess;
  return loaded;
}
