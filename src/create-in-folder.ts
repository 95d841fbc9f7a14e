import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * `create()`, which makes `file`; when it fails because the folder is missing (ENOENT), the folder
 * is made and `create()` runs once more. The folder is nearly always there (a trial's, made when
 * the trial starts; an object folder seen before): a `mkdir -p` before each file cost a system
 * call and an exception caught inside Node (decisions 86), and one made here first is made again
 * whenever something removed it meanwhile.
 */
export function createInFolder<T>(file: string, create: () => T): T {
  try {
    return create();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dirname(file), { recursive: true });
    return create();
  }
}
