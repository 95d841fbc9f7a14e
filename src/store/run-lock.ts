// node:fs/promises through `promises`, read at the first call: a read command that calls none
// of these never loads it (2.5 ms of its start).
import { linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync, promises as fsp } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { LockedError } from '../errors.js';
import { isProcessAlive, readBootId, readProcessStart } from './process-identity.js';

/** Who holds a run's lock. */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO 8601 time the lock was taken. */
  startedAt: string;
  /** The holder's start time from /proc (Linux), to tell it from a later process with its pid. */
  procStart?: string | undefined;
  bootId?: string | undefined;
}

export interface RunLock {
  file: string;
  /** The dead holder whose lock was replaced, or null when the lock was free. */
  takenOverFrom: LockInfo | null;
  /** True when a lock was replaced: a dead holder's, or an unreadable one (takenOverFrom null). */
  takenOver: boolean;
  /** Removes the lock if it is still ours. Synchronous, so an exit handler can call it. */
  release(): void;
  /**
   * Puts the lock file back when someone deleted it while we hold it (an experiment cleaning its
   * folder); returns true when it had to. Throws LockedError when another process's lock is there.
   */
  restoreIfMissing(): boolean;
}

export interface AcquireOptions {
  pid?: number;
  hostname?: string;
  /** Take over a lock held from another host (the user says that host is gone). */
  force?: boolean;
  /** What the lock guards, in messages; default `run "<basename of runDir>"`. */
  label?: string;
  /** What to do instead, appended to the refusal; default: stop it first, or wait for it to end. */
  advice?: string;
}

interface LockRecord extends LockInfo {
  /** Unique per acquisition: tells our lock from any other, even one of the same process. */
  token?: string | undefined;
}

type Existing =
  | { kind: 'missing' }
  | { kind: 'held'; raw: string; record: LockRecord }
  | { kind: 'unreadable'; raw: string; ageMs: number };

const LOCK_FILE = 'lock';
const ATTEMPTS = 50;
// A lock being written with the plain O_EXCL fallback is briefly empty: give it this long
// before calling unreadable content stale.
const UNREADABLE_GRACE_MS = 1000;
const RETRY_DELAY_MS = 50;

/**
 * Takes `<runDir>/lock` for this process. Refuses (LockedError) while a live process on this host
 * holds it, or while any process on another host does (unless `force`); takes over a dead
 * holder's lock, safely even when several processes try at once.
 */
export async function acquireRunLock(runDir: string, options: AcquireOptions = {}): Promise<RunLock> {
  const file = join(runDir, LOCK_FILE);
  await fsp.mkdir(runDir, { recursive: true });
  const pid = options.pid ?? process.pid;
  const mine: LockRecord = {
    pid,
    host: options.hostname ?? osHostname(),
    startedAt: new Date().toISOString(),
    procStart: readProcessStart(pid) ?? undefined,
    bootId: readBootId() ?? undefined,
    token: randomHex(8),
  };
  let takenOverFrom: LockInfo | null = null;
  let takenOver = false;

  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    await createLockFile(file, mine);
    // Whether or not our create succeeded, only the file holding our token proves we own the
    // lock: a racing takeover may have moved ours aside, or put it back, in between.
    const existing = await readExisting(file);
    if (existing.kind === 'missing') continue;
    if (existing.kind === 'held' && existing.record.token === mine.token) {
      return makeLock(file, mine, takenOverFrom, takenOver);
    }
    if (existing.kind === 'held') {
      refuseIfHeld(options.label ?? `run "${basename(runDir)}"`, file, existing.record, mine.host, options);
    } else if (existing.ageMs < UNREADABLE_GRACE_MS && options.force !== true) {
      await sleep(RETRY_DELAY_MS);
      continue;
    }
    if (await moveAsideIfUnchanged(file, existing.raw)) {
      takenOver = true;
      takenOverFrom = existing.kind === 'held' ? publicInfo(existing.record) : null;
    }
  }
  throw new LockedError(`could not take the lock of run "${basename(runDir)}": ${file} keeps changing; try again`);
}

function refuseIfHeld(label: string, file: string, holder: LockRecord, host: string, options: AcquireOptions): void {
  const since = formatTime(holder.startedAt);
  if (holder.host !== host) {
    if (options.force === true) return;
    throw new LockedError(`${label} is locked by pid ${holder.pid} on host ${holder.host} (since ${since}); if that host is gone, delete ${file}`);
  }
  if (isProcessAlive(holder)) {
    throw new LockedError(
      `${label} is already running (pid ${holder.pid} on ${holder.host} since ${since}); ${options.advice ?? 'stop it first, or wait for it to end'}`,
    );
  }
}

// The lock appears whole or not at all: its content is written to a private file first, then
// hard-linked into place, which fails if a lock exists (the same guarantee as O_EXCL, without a
// moment when another process could read an empty lock and think it stale).
async function createLockFile(file: string, record: LockRecord): Promise<void> {
  const content = `${JSON.stringify(record)}\n`;
  const staging = `${file}.new-${record.token ?? 'x'}`;
  await fsp.writeFile(staging, content, { flag: 'wx' });
  try {
    await fsp.link(staging, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    // A file system without hard links: fall back to O_EXCL.
    try {
      await fsp.writeFile(file, content, { flag: 'wx' });
    } catch (fallbackError) {
      if ((fallbackError as NodeJS.ErrnoException).code !== 'EEXIST') throw fallbackError;
    }
  } finally {
    await fsp.rm(staging, { force: true });
  }
}

// Two processes may judge the same lock stale at once. Each renames it to a private name; only
// one rename can find it. The winner then checks it moved the very lock it judged (not a fresh
// one made meanwhile) and puts it back if not.
async function moveAsideIfUnchanged(file: string, judged: string): Promise<boolean> {
  const aside = `${file}.stale-${process.pid}-${randomHex(6)}`;
  try {
    await fsp.rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = await fsp.readFile(aside, 'utf8').catch(() => null);
  if (moved !== judged) {
    // link() fails if yet another lock appeared; that holder then keeps it.
    await fsp.link(aside, file).catch(() => undefined);
    await fsp.rm(aside, { force: true });
    return false;
  }
  await fsp.rm(aside, { force: true });
  return true;
}

async function readExisting(file: string): Promise<Existing> {
  let raw: string;
  let mtimeMs: number;
  try {
    [raw, { mtimeMs }] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  const record = parseLockRecord(raw);
  return record === null ? { kind: 'unreadable', raw, ageMs: Date.now() - mtimeMs } : { kind: 'held', raw, record };
}

export function parseLockRecord(raw: string): LockRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (!Number.isInteger(v['pid']) || (v['pid'] as number) <= 0) return null;
  if (typeof v['host'] !== 'string' || typeof v['startedAt'] !== 'string') return null;
  const optional = (key: string): string | undefined => (typeof v[key] === 'string' ? v[key] : undefined);
  return {
    pid: v['pid'] as number,
    host: v['host'],
    startedAt: v['startedAt'],
    procStart: optional('procStart'),
    bootId: optional('bootId'),
    token: optional('token'),
  };
}

function readToken(file: string): string | undefined {
  try {
    return parseLockRecord(readFileSync(file, 'utf8'))?.token;
  } catch {
    return undefined;
  }
}

function makeLock(file: string, mine: LockRecord, takenOverFrom: LockInfo | null, takenOver: boolean): RunLock {
  let released = false;
  return {
    file,
    takenOverFrom,
    takenOver,
    release(): void {
      if (released) return;
      released = true;
      // Never remove a lock that someone else has taken over since.
      if (readToken(file) !== mine.token) return;
      try {
        unlinkSync(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    },
    restoreIfMissing(): boolean {
      if (released) return false;
      const token = readToken(file);
      if (token === mine.token) return false;
      let raw: string | null = null;
      try {
        raw = readFileSync(file, 'utf8');
      } catch {
        // missing: put ours back below
      }
      if (raw !== null) {
        const other = parseLockRecord(raw);
        throw new LockedError(`the lock ${file} was replaced while this run held it${other ? ` (now pid ${other.pid} on ${other.host})` : ''}; stopping so that two runs never share the folder`);
      }
      mkdirSync(dirname(file), { recursive: true });
      const staging = `${file}.new-${mine.token ?? 'x'}`;
      writeFileSync(staging, `${JSON.stringify(mine)}\n`, { flag: 'w' });
      try {
        linkSync(staging, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        throw new LockedError(`the lock ${file} was taken by another process while this run held it; stopping so that two runs never share the folder`);
      } finally {
        rmSync(staging, { force: true });
      }
      return true;
    },
  };
}

function publicInfo(record: LockRecord): LockInfo {
  const info: LockInfo = { pid: record.pid, host: record.host, startedAt: record.startedAt };
  if (record.procStart !== undefined) info.procStart = record.procStart;
  if (record.bootId !== undefined) info.bootId = record.bootId;
  return info;
}

// Local time to the minute, as a person reads it: "2026-11-27 10:02".
function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `bytes` random bytes in hex, from the global Web Crypto, which loads node:crypto only when
 * first used: a read command that takes no lock never pays for it (about 4 ms here).
 */
function randomHex(bytes: number): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}
