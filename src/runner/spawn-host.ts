import type { ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { childProcess } from '../child-process.js';
import { setHostRoute } from './host-route.js';
import { endLostJob, exitOf, hostEnded, newHostJob, startErrorOf, type HostJob, type HostReport } from './host-jobs.js';
import { findPython, PythonSpawnHost } from './python-spawn-host.js';

/**
 * Where crucible's commands are started from during a run (decisions 63, 64): a small process of
 * its own, the spawn host, instead of crucible's. libuv forks on Linux, and a fork marks every
 * page of the forking process copy-on-write: each page crucible writes afterwards takes a fault,
 * about 15 µs on the virtual machines measured, a few hundred pages a trial. Started from the host,
 * a command costs crucible one message, and crucible never forks during a run. On Linux the host
 * is Python where python3 is found (python-spawn-host.ts: its posix_spawn copies nothing), else
 * the Node host below.
 *
 * The host reads none of a command's output. The Node host stops reading each pipe before it
 * hands the descriptor over (Node's handle passing), so every byte reaches crucible, which reads,
 * writes and closes the pipes as it would its own child's. The host starts with an empty environment
 * (nothing of crucible's, no keys); each command gets the environment its request names.
 */

/** How a command's descriptor is set up: a pipe to crucible, /dev/null, or a file opened read-only. */
export type StdioEntry = 'pipe' | 'ignore' | { path: string; fd: number };

export interface StartRequest {
  file: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Descriptors 0, 1, 2, ... of the command. */
  stdio: readonly StdioEntry[];
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the exit status could not be known (the spawn host ended): the command's group was killed. */
  lost?: string;
}

/** A command started as the leader of a session and process group of its own (its pid is the group's id). */
export interface StartedProcess {
  pid: number;
  /** One per stdio entry: the socket of a 'pipe' (its errors already listened to), else null. */
  stdio: readonly (Socket | null)[];
  exit: Promise<ProcessExit>;
}

/**
 * The host's program, run with `node -e`: a string, not a function of this module, so that no
 * bundler can make it depend on anything outside it. Messages in: a request. Out, in this order
 * for each request: "started" (the pid, the number of pipes) or "error", then each pipe with its
 * descriptor, then "exit". The pid comes first: whatever happens next, crucible can end the group.
 */
const hostProgram = `'use strict';
process.title = 'crucible spawn host';
const { spawn } = require('node:child_process');
const { openSync, closeSync } = require('node:fs');
process.on('disconnect', () => process.exit(0));
// A Ctrl+C at the terminal reaches crucible's whole process group: crucible finishes the trial,
// so the host must not end under it. It ends when its channel closes.
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(name, () => {});
const fail = (id, error) => process.send({ id, kind: 'error', code: error.code, message: error.message });
process.on('message', (m) => {
  const opened = [];
  let child;
  try {
    const stdio = m.stdio.map((e) => {
      if (e === null || typeof e !== 'object') return e;
      const fd = openSync(e.path, 'r');
      opened.push(fd);
      return fd;
    });
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio });
  } catch (error) {
    fail(m.id, error);
    return;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
  if (child.pid === undefined) {
    child.once('error', (error) => fail(m.id, error));
    return;
  }
  child.on('error', () => {});
  // The pipes leave the ChildProcess at once: on the command's exit Node touches those it still
  // holds (it resumes them and destroys stdin), and only the handing over may touch them here.
  const streams = child.stdio.slice();
  child.stdio.fill(null);
  child.stdin = child.stdout = child.stderr = null;
  const pipes = streams.map((stream, fd) => (stream ? fd : -1)).filter((fd) => fd >= 0);
  process.send({ id: m.id, kind: 'started', pid: child.pid, pipes: pipes.length });
  for (const fd of pipes) {
    const stream = streams[fd];
    // Not one byte is read here: the descriptor is crucible's to read.
    stream._handle.readStop();
    process.send({ id: m.id, kind: 'pipe', fd }, stream);
  }
  child.once('exit', (code, signal) => process.send({ id: m.id, kind: 'exit', code, signal }));
});
process.send({ kind: 'ready' });
`;

interface HostMessage extends HostReport {
  id?: number;
  kind: 'ready' | 'started' | 'pipe' | 'error' | 'exit';
  pid?: number;
  pipes?: number;
  fd?: number;
}

interface Job extends HostJob {
  /** How many pipes the host said it would hand over; null until it started the command. */
  expected: number | null;
  received: number;
}

/** A spawn host of either kind. */
interface Host {
  readonly usable: boolean;
  readonly pid: number | undefined;
  readonly kind: 'python' | 'node';
  accepts(request: StartRequest): boolean;
  start(request: StartRequest): Promise<StartedProcess | NodeJS.ErrnoException>;
  close(): void;
}

class SpawnHost implements Host {
  readonly kind = 'node';
  private readonly child: ChildProcess;
  private ready = false;
  private ended = false;
  private closing = false;
  private nextId = 0;
  private readonly jobs = new Map<number, Job>();

  constructor() {
    this.child = childProcess().spawn(process.execPath, ['-e', hostProgram], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: {}, serialization: 'json' });
    this.child.on('message', (message: HostMessage, handle: unknown) => this.receive(message, handle));
    this.child.on('error', () => this.end());
    this.child.on('exit', () => this.end());
    this.settleRef();
  }

  /** True once the host has said it is ready, until it ends. */
  get usable(): boolean {
    return this.ready && !this.ended && !this.closing;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  accepts(): boolean {
    return true;
  }

  start(request: StartRequest): Promise<StartedProcess | NodeJS.ErrnoException> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const job: Job = { ...newHostJob(request.stdio.length, resolve), expected: null, received: 0 };
      this.jobs.set(id, job);
      this.settleRef();
      const stdio = request.stdio.map((entry) => (typeof entry === 'object' ? { path: entry.path } : entry));
      // send() answers false under backpressure too, and sends anyway: only its callback tells.
      const message = { id, file: request.file, args: request.args, cwd: request.cwd, env: request.env, stdio };
      if (!this.child.connected) this.lose(id, job);
      else
        this.child.send(message, (error) => {
          if (error) this.lose(id, job);
        });
    });
  }

  /** Ends the host once no command it started is running; it ends by itself if crucible dies. */
  close(): void {
    this.closing = true;
    if (this.jobs.size === 0 && this.child.connected) this.child.disconnect();
  }

  private receive(message: HostMessage, handle: unknown): void {
    if (message.kind === 'ready') {
      this.ready = true;
      return;
    }
    const job = message.id === undefined ? undefined : this.jobs.get(message.id);
    if (job === undefined || message.id === undefined) {
      if (handle instanceof Socket) handle.destroy();
      return;
    }
    if (message.kind === 'error') {
      this.jobs.delete(message.id);
      job.settleStart(startErrorOf(message));
      this.afterJob();
    } else if (message.kind === 'started') {
      job.pid = message.pid ?? null;
      job.expected = message.pipes ?? 0;
    } else if (message.kind === 'pipe') {
      // A pipe that did not come (Node sends the message alone when the handle is gone): the
      // command cannot be heard, so it is stopped rather than waited for.
      if (!(handle instanceof Socket) || message.fd === undefined || message.fd >= job.stdio.length) {
        if (handle instanceof Socket) handle.destroy();
        this.lose(message.id, job, 'a pipe of the command was lost on its way from the spawn host');
        return;
      }
      // An error (a reset, a write after the command's end) is told by the end of the stream, not thrown.
      handle.on('error', () => undefined);
      job.stdio[message.fd] = handle;
      job.received += 1;
    } else if (message.kind === 'exit') {
      this.jobs.delete(message.id);
      job.settleExit(exitOf(message));
      this.afterJob();
    }
    if (job.pid !== null && job.expected !== null && job.received === job.expected) {
      job.settleStart({ pid: job.pid, stdio: job.stdio, exit: job.exit });
    }
  }

  /** A job whose host is gone: its group is killed, and it ends as a failure, never as a result. */
  private lose(id: number, job: Job, why = hostEnded): void {
    this.jobs.delete(id);
    endLostJob(job, why);
    this.afterJob();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const [id, job] of [...this.jobs]) this.lose(id, job);
    if (current === this) current = null;
  }

  private afterJob(): void {
    this.settleRef();
    if (this.closing && this.jobs.size === 0 && this.child.connected) this.child.disconnect();
  }

  /** The host keeps crucible alive only while a command it started runs. */
  private settleRef(): void {
    if (this.jobs.size > 0) {
      this.child.ref();
      this.child.channel?.ref();
    } else {
      this.child.unref();
      this.child.channel?.unref();
    }
  }
}

let current: Host | null = null;
let users = 0;
const releaseHooks = new Set<() => void>();

/** `hook` runs each time the last user lets the host go (a run's end), before the host closes. */
export function onSpawnHostRelease(hook: () => void): void {
  releaseHooks.add(hook);
}

/** Whether a run holds the spawn host now (what is kept for its commands is let go at its end). */
export function spawnHostInUse(): boolean {
  return users > 0;
}

/** Whether this process may start a spawn host: not where `CRUCIBLE_SPAWN_HOST=0`, nor on Windows. */
function hostAllowed(): boolean {
  return process.platform !== 'win32' && process.env['CRUCIBLE_SPAWN_HOST'] !== '0';
}

function startNodeHost(): Host | null {
  try {
    return new SpawnHost();
  } catch {
    return null;
  }
}

/**
 * The Python host on Linux where python3 can be found (decisions 64), else the Node one.
 * `CRUCIBLE_SPAWN_HOST=node` or `=python` asks for one kind; a Python host that cannot start
 * gives way to the Node one unless Python was asked for.
 */
function startHost(): Host | null {
  const asked = process.env['CRUCIBLE_SPAWN_HOST'];
  if (process.platform !== 'linux' || asked === 'node') return startNodeHost();
  const python = findPython();
  if (python === null) return asked === 'python' ? null : startNodeHost();
  try {
    const host: Host = new PythonSpawnHost(python, (wasReady) => {
      if (current !== host) return;
      current = wasReady || asked === 'python' ? null : startNodeHost();
    });
    return host;
  } catch {
    return asked === 'python' ? null : startNodeHost();
  }
}

/**
 * Starts the spawn host for the caller (a run) and returns its release. Commands go through it
 * once it is ready; before that, and wherever it cannot start, they are started here as before.
 */
export function useSpawnHost(): () => void {
  if (!hostAllowed()) return () => undefined;
  users += 1;
  current ??= startHost();
  // git's processes take the same way while the host is ready (decisions 66).
  setHostRoute({ ready: () => current?.usable === true, start: startDetached });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    users -= 1;
    if (users === 0) for (const hook of releaseHooks) hook();
    if (users === 0 && current !== null) {
      setHostRoute(null);
      current.close();
      current = null;
    }
  };
}

/** The host's pid while one is running (for tests). */
export function spawnHostPid(): number | undefined {
  return current?.pid;
}

/** Whether commands now go through a host (for tests). */
export function spawnHostReady(): boolean {
  return current?.usable === true;
}

/** Which kind of host commands go through now (for tests). */
export function spawnHostKind(): 'python' | 'node' | null {
  return current?.usable === true ? current.kind : null;
}

function startHere(request: StartRequest): StartedProcess | Promise<NodeJS.ErrnoException> {
  const stdio = request.stdio.map((entry) => (typeof entry === 'object' ? entry.fd : entry));
  const child = childProcess().spawn(request.file, [...request.args], { cwd: request.cwd, env: request.env, detached: true, stdio });
  if (child.pid === undefined) return new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
  // Errors after a successful spawn (a failed kill) say nothing the exit does not.
  child.on('error', () => undefined);
  const exit = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const pipes = child.stdio.map((stream) => (stream instanceof Socket ? stream : null));
  // As the host's pipes: an error (a reset, a write after the command's end) is told by the end of the stream.
  for (const pipe of pipes) pipe?.on('error', () => undefined);
  return { pid: child.pid, stdio: pipes, exit };
}

/**
 * Starts `request.file` as the leader of a new session, through the spawn host when one is ready,
 * else from this process. A file entry's descriptor stays the caller's to close.
 */
export async function startDetached(request: StartRequest): Promise<StartedProcess | NodeJS.ErrnoException> {
  const host = current;
  if (host !== null && host.usable && host.accepts(request)) return host.start(request);
  return startHere(request);
}
