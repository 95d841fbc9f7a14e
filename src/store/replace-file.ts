import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Replaces `path` with `content` whole or not at all: written to `<path>.<pid>.new` beside it, then
 * renamed over it, so that a crash leaves the old file or the new one, never half of each. `sync`:
 * flushed to the disk before the rename (a record); without it, a crash may leave the old file, or
 * an empty or short new one (a cache, checked when read). A temporary is never left by a failure;
 * one left by a killed process keeps that name.
 */
export function replaceFile(path: string, content: string, options: { sync: boolean }): void {
  const temporary = `${path}.${process.pid}.new`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeFileSync(fd, content);
      if (options.sync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
