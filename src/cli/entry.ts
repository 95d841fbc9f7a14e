#!/usr/bin/env node
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enableCompileCache } from './compile-cache.js';

// The `crucible` command's first file: V8's code cache is set up before the command itself
// (crucible.js and its chunks) is compiled, so that those are compiled through it.
const here = fileURLToPath(import.meta.url);
enableCompileCache(dirname(here), process.env, process.argv[2]);
createRequire(here)('./crucible.js');
