import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The shell that runs an experiment's two commands one after the other inside its one sandbox
 * (decisions 54): a copy of /bin/sh that nobody may read (mode 0111). The kernel marks a process
 * that executes a file it cannot read as not dumpable, and a process that is not dumpable cannot
 * be traced, nor its memory or descriptors opened through /proc, by one without CAP_SYS_PTRACE.
 * The run command shares the sandbox with this shell and has no capabilities there: it cannot
 * take the shell over to write the eval's output or start something of its own as the eval.
 */
interface ShellCopy {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

let copy: ShellCopy | null | undefined;

/**
 * Where the sandbox finds the shell: bound read-only into its private /run. Named `sh`: a shell
 * that is a multi-call binary (busybox) picks what to be by that name.
 */
export const experimentShellInSandbox = '/run/.crucible-experiment/sh';

/** Whether files under `dir` may be executed: false on a `noexec` mount (a hardened /tmp), true when /proc cannot tell. */
export function allowsExec(dir: string, mountinfo = '/proc/self/mountinfo'): boolean {
  let lines: string[];
  let real: string;
  try {
    lines = readFileSync(mountinfo, 'utf8').split('\n');
    real = realpathSync(dir);
  } catch {
    return true;
  }
  let best: { point: string; options: string } | null = null;
  for (const line of lines) {
    // "id parent major:minor root mount-point options ...": octal escapes (\040) in paths.
    const fields = line.split(' ');
    if (fields.length < 6) continue;
    const point = fields[4]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const inside = point === '/' || real === point || real.startsWith(`${point}/`);
    // Later lines are mounted over earlier ones at the same point.
    if (inside && (best === null || point.length >= best.point.length)) best = { point, options: fields[5]! };
  }
  return best === null || !best.options.split(',').includes('noexec');
}

/** This process's PID namespace (its inode), so that a pid in a copy's name is read where it was given. */
function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid').replace(/\D/g, '');
  } catch {
    return '0';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the copies in `base` that crucible processes killed before their exit left (`kill -9`,
 * the machine's OOM killer): each copy's folder is named after its process and PID namespace, and
 * only those of this namespace whose process is gone, and that are this user's, are removed. A
 * pid given again to another process keeps its folder: a leftover, never a copy in use, is lost.
 */
export function sweepShellCopies(base: string, namespace = pidNamespace()): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const owner = /^crucible-sh-(\d+)-(\d+)-/.exec(name);
    if (owner === null || owner[1] !== namespace || Number(owner[2]) === process.pid || alive(Number(owner[2]))) continue;
    try {
      const stat = lstatSync(path.join(base, name));
      if (stat.isDirectory() && (uid === undefined || stat.uid === uid)) rmSync(path.join(base, name), { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

function makeCopy(env: NodeJS.ProcessEnv): ShellCopy | null {
  const home = env['HOME'] || os.homedir();
  const namespace = pidNamespace();
  for (const base of [env['TMPDIR'] || os.tmpdir(), path.join(home, '.cache', 'crucible')]) {
    try {
      mkdirSync(base, { recursive: true });
      if (!allowsExec(base)) continue;
      sweepShellCopies(base, namespace);
      const dir = mkdtempSync(path.join(base, `crucible-sh-${namespace}-${String(process.pid)}-`));
      const file = path.join(dir, 'sh');
      copyFileSync(realpathSync('/bin/sh'), file);
      chmodSync(file, 0o111);
      // The copy is this process's: gone with it (one a killed crucible left goes at the next start).
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      const stat = statSync(file);
      return { path: file, dev: stat.dev, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs };
    } catch {
      // the next place, or none
    }
  }
  return null;
}

function unchanged(c: ShellCopy): boolean {
  try {
    const stat = statSync(c.path);
    // Any write or chmod moves ctime: a copy changed in place is made again, not used.
    return stat.isFile() && stat.dev === c.dev && stat.ino === c.ino && stat.size === c.size && stat.mtimeMs === c.mtimeMs && stat.ctimeMs === c.ctimeMs && (stat.mode & 0o7777) === 0o111;
  } catch {
    return false;
  }
}

/**
 * The path of the copy on this machine, made on first use and made again when it is gone or was
 * changed (a cleaner of /tmp), checked before each experiment; null where none can be made:
 * experiments then take two sandboxes. Sandboxed commands never see it where it lies: their /tmp
 * is their own, and the home folder is read-only to them.
 */
export function experimentShell(env: NodeJS.ProcessEnv = process.env): string | null {
  if (copy === undefined || (copy !== null && !unchanged(copy))) copy = makeCopy(env);
  return copy?.path ?? null;
}
