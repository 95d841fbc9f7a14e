import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';

/**
 * git's index file (Documentation/gitformat-index.txt), versions 2 and 3: read, entries updated,
 * written back. Anything else (version 4, a split or sparse index, an extension not known here, a
 * conflict) reads as null, and git does the work.
 */

/** About 10,000 files: beyond, git's own read-tree and status are the faster way. */
export const MAX_INDEX_BYTES = 1 << 20;

export interface IndexEntry {
  /** Offset of the entry in the file. */
  at: number;
  mode: number;
  sha: string;
  /** No flag set (assume-unchanged, skip-worktree, intent-to-add): only such an entry is updated here. */
  plain: boolean;
  /** Only skip-worktree set (a hidden file of an agent's sparse checkout): git never looks at its file. */
  skipWorktree: boolean;
}

export interface ParsedIndex {
  data: Buffer;
  /** Stage-0 entries by path; a conflict (a stage other than 0) makes the parse fail. */
  entries: Map<string, IndexEntry>;
  /** Where the entries end and the extensions begin. */
  entriesEnd: number;
  extensions: Array<{ signature: string; body: Buffer }>;
}

const KEPT_EXTENSIONS = new Set(['TREE', 'REUC', 'UNTR']);
/** Optional, and describing offsets and hashes of the file as it was: dropped. */
const DROPPED_EXTENSIONS = new Set(['EOIE', 'IEOT']);

/** The index, or null when it is anything but a plain version 2 or 3 index with a valid checksum. */
export function parseIndex(data: Buffer): ParsedIndex | null {
  if (data.length < 32 || data.toString('latin1', 0, 4) !== 'DIRC') return null;
  const version = data.readUInt32BE(4);
  if (version !== 2 && version !== 3) return null;
  const body = data.length - 20;
  if (!createHash('sha1').update(data.subarray(0, body)).digest().equals(data.subarray(body))) return null;
  const count = data.readUInt32BE(8);
  const entries = new Map<string, IndexEntry>();
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 64 > body) return null;
    const flags = data.readUInt16BE(at + 60);
    // A conflict (a stage other than 0) is git's business.
    if ((flags & 0x3000) !== 0) return null;
    // Extended flags (skip-worktree, intent-to-add) take two bytes more, from version 3 on.
    const extended = (flags & 0x4000) !== 0;
    if (extended && version < 3) return null;
    const fixed = extended ? 64 : 62;
    const more = extended ? data.readUInt16BE(at + 62) : 0;
    const plain = (flags & 0x8000) === 0 && more === 0;
    const skipWorktree = (flags & 0x8000) === 0 && more === 0x4000;
    const nameLength = flags & 0xfff;
    const nameStart = at + fixed;
    const nameEnd = nameLength < 0xfff ? nameStart + nameLength : data.indexOf(0, nameStart);
    if (nameEnd < 0 || nameEnd > body || data[nameEnd] !== 0) return null;
    const name = data.toString('utf8', nameStart, nameEnd);
    if (Buffer.byteLength(name) !== nameEnd - nameStart) return null; // not UTF-8: a name that cannot round-trip
    entries.set(name, { at, mode: data.readUInt32BE(at + 24), sha: data.toString('hex', at + 40, at + 60), plain, skipWorktree });
    at += (fixed + (nameEnd - nameStart) + 8) & ~7;
  }
  const entriesEnd = at;
  const extensions: ParsedIndex['extensions'] = [];
  while (at < body) {
    if (at + 8 > body) return null;
    const signature = data.toString('latin1', at, at + 4);
    const size = data.readUInt32BE(at + 4);
    if (at + 8 + size > body) return null;
    if (!KEPT_EXTENSIONS.has(signature) && !DROPPED_EXTENSIONS.has(signature)) return null;
    if (KEPT_EXTENSIONS.has(signature)) extensions.push({ signature, body: data.subarray(at + 8, at + 8 + size) });
    at += 8 + size;
  }
  return { data: Buffer.from(data), entries, entriesEnd, extensions };
}

/** The entry's stat data and id, as git records a file it has just written. */
export function setEntry(data: Buffer, entry: IndexEntry, info: BigIntStats, sha: string): void {
  for (const [offset, value] of statFields(info)) data.writeUInt32BE(value, entry.at + offset);
  // mode stays: the same in both trees
  data.write(sha, entry.at + 40, 20, 'hex');
}

/**
 * Whether the entry's stat data is the file's, as git tests it (ie_match_stat): times, inode,
 * owner and size; the device is recorded but, as in git's default build, not compared.
 */
export function entryStatMatches(data: Buffer, entry: IndexEntry, info: BigIntStats): boolean {
  return statFields(info).every(([offset, value]) => offset === DEVICE_OFFSET || data.readUInt32BE(entry.at + offset) === value);
}

const DEVICE_OFFSET = 16;

/** A file's stat data as an index entry holds it: [offset in the entry, 32-bit value]. */
function statFields(info: BigIntStats): Array<[number, number]> {
  const u32 = (value: bigint) => Number(value & 0xffffffffn);
  return [
    [0, u32(info.ctimeNs / 1_000_000_000n)],
    [4, u32(info.ctimeNs % 1_000_000_000n)],
    [8, u32(info.mtimeNs / 1_000_000_000n)],
    [12, u32(info.mtimeNs % 1_000_000_000n)],
    [DEVICE_OFFSET, u32(info.dev)],
    [20, u32(info.ino)],
    [28, u32(info.uid)],
    [32, u32(info.gid)],
    [36, u32(info.size)],
  ];
}

/**
 * The index with its entries as updated, the cache tree invalidated along `changed`, and a new
 * checksum, parsed: the new file's bytes, the same entries (at the same offsets) and the
 * extensions as written. `index`'s entry objects must already hold their new ids.
 */
export function serializedIndex(index: ParsedIndex, changed: readonly string[]): ParsedIndex {
  const parts: Buffer[] = [index.data.subarray(0, index.entriesEnd)];
  const extensions: ParsedIndex['extensions'] = [];
  for (const { signature, body } of index.extensions) {
    const out = signature === 'TREE' ? invalidateCacheTree(body, changed) : body;
    if (out === null) continue; // a cache tree that cannot be read is dropped: git rebuilds it
    const header = Buffer.alloc(8);
    header.write(signature, 0, 'latin1');
    header.writeUInt32BE(out.length, 4);
    parts.push(header, out);
    extensions.push({ signature, body: out });
  }
  const content = Buffer.concat(parts);
  return { data: Buffer.concat([content, createHash('sha1').update(content).digest()]), entries: index.entries, entriesEnd: index.entriesEnd, extensions };
}

/**
 * The cache tree (the TREE extension) with every folder that holds a changed path marked
 * invalid (entry count -1, no id), as git does when it updates an entry; null when it cannot be
 * read. Each node: its name, NUL, the entry count, a space, the subtree count, a newline, the
 * tree's id when the count is not negative, then its subtrees.
 */
export function invalidateCacheTree(body: Buffer, changed: readonly string[]): Buffer | null {
  const out: Buffer[] = [];
  let at = 0;
  const node = (prefix: string, depth: number): boolean => {
    const nul = body.indexOf(0, at);
    const space = body.indexOf(0x20, nul);
    const newline = body.indexOf(0x0a, space);
    if (nul < 0 || space < 0 || newline < 0 || depth > 4096) return false;
    const name = body.toString('utf8', at, nul);
    const count = Number(body.toString('latin1', nul + 1, space));
    const subtrees = Number(body.toString('latin1', space + 1, newline));
    if (!Number.isInteger(count) || !Number.isInteger(subtrees) || subtrees < 0) return false;
    const folder = depth === 0 ? '' : prefix === '' ? name : `${prefix}/${name}`;
    const touched = changed.some((file) => folder === '' || file.startsWith(`${folder}/`));
    let next = newline + 1;
    if (count >= 0) next += 20;
    if (next > body.length) return false;
    if (touched) out.push(Buffer.from(`${name}\0-1 ${subtrees}\n`, 'utf8'));
    else out.push(body.subarray(at, next));
    at = next;
    for (let i = 0; i < subtrees; i++) if (!node(folder, depth + 1)) return false;
    return true;
  };
  if (body.length > 0 && !node('', 0)) return null;
  if (at !== body.length) return null;
  return Buffer.concat(out);
}
