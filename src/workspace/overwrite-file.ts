import { closeSync, constants, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';

/**
 * Rewrites an existing file of crucible's own in place: its bytes written from the start, then the
 * file cut to their length. false, with nothing written, where the file is not one this may write
 * through: absent, a link (the last component; the caller checks the folders on the way), not a
 * plain file (a FIFO is not waited for), a file with other names (a hard link would take the
 * write to a file outside), or one whose executable bit is not `executable` (when given). The
 * caller then writes it another way.
 *
 * Why not truncate and write, or write a temporary file and rename it over: ext4 (the default
 * `auto_da_alloc`) starts the data's write-back at once after either, to protect such replaces
 * from a crash, and that costs each one 0.2–0.6 ms on the machines crucible is measured on,
 * against 0.01 ms for this (decisions 74). For files whose loss to a power cut crucible repairs
 * (a worktree of its own, an agent's prompt) that protection buys nothing: after a power cut,
 * either way, only git's stat checks or a rewrite tell what a file holds.
 */
export function overwriteInPlace(file: string, content: string | Uint8Array, executable?: boolean): boolean {
  let fd: number;
  try {
    // Not blocking: a FIFO put in the file's place must not hang the open (fstat then refuses it).
    fd = openSync(file, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.nlink !== 1 || (executable !== undefined && (stat.mode & 0o100) !== 0 !== executable)) return false;
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written, written);
    ftruncateSync(fd, bytes.length);
    return true;
  } finally {
    closeSync(fd);
  }
}
