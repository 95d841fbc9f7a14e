import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../child-process.js';
import { endLostJob, exitOf, hostEnded, newHostJob, startErrorOf, type HostJob, type HostReport } from './host-jobs.js';
import type { StartedProcess, StartRequest } from './spawn-host.js';

/**
 * The spawn host in Python, where there is one (decisions 64). Node's spawn forks crucible's
 * whole address space, or the Node host's (decisions 63): on the virtual machines measured that
 * costs 4 to 6 ms a command, where `posix_spawn` (a vfork: nothing copied) costs under one. A loop
 * that did nothing but start a trial's commands measured 11.4 ms a trial above the commands alone
 * from Node, 1.4 ms from Python. Python exposes `os.posix_spawn` with a new session; Node does not.
 *
 * The host never sees a byte of output. For each of a command's pipes it connects to a Unix
 * socket crucible listens on (in a folder only this user can enter), says which job and
 * descriptor the connection is with a token crucible made for that job, and gives the connected
 * socket to the command as that descriptor. crucible reads, writes and closes it as it would the
 * pipe of a child of its own (libuv's pipes are sockets too). A connection whose token names no
 * pipe crucible is waiting for is closed unread.
 *
 * Messages in, one JSON line each on the host's stdin: a request. Out, on its stdout: "ready"
 * once, then for each request "started" (the pid) or "error", then "exit".
 */

/** Python 3.8 has posix_spawn with setsid; the probe checks that this libc can do it. */
const hostProgram = String.raw`
import errno, fcntl, json, os, selectors, signal, socket, sys
if sys.version_info < (3, 8) or not hasattr(os, 'posix_spawn'):
    sys.exit(3)
socket_path = sys.argv[1]
default_signals = [s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)]
def spawn(file, args, env, actions):
    return os.posix_spawn(file, [file] + args, env, file_actions=actions, setsid=True, setsigmask=(), setsigdef=default_signals)
try:
    probe = spawn('/bin/sh', ['-c', ':'], {}, [(os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDWR, 0)])
    os.waitpid(probe, 0)
except Exception:
    sys.exit(3)
# A Ctrl+C at the terminal reaches crucible's whole process group: crucible finishes the trial,
# so the host must not end under it. It ends when crucible closes its input, or dies.
for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(number, signal.SIG_IGN)
wake_read, wake_write = os.pipe()
os.set_blocking(wake_read, False)
os.set_blocking(wake_write, False)
signal.set_wakeup_fd(wake_write)
signal.signal(signal.SIGCHLD, lambda number, frame: None)
jobs = {}
def say(message):
    os.write(1, (json.dumps(message) + '\n').encode())
def start(request):
    job = request['id']
    held = []
    try:
        sources = []
        for index, entry in enumerate(request['stdio']):
            if entry == 'pipe':
                connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                held.append(connection)
                connection.connect(socket_path)
                connection.sendall((request['token'] + '%02d' % index).encode())
                fd = connection.fileno()
            elif isinstance(entry, dict):
                fd = os.open(entry['path'], os.O_RDONLY | os.O_CLOEXEC)
                held.append(fd)
            else:
                fd = os.open('/dev/null', os.O_RDWR | os.O_CLOEXEC)
                held.append(fd)
            # Out of the way of descriptors 0 to n, which the command's are copied onto.
            high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64)
            held.append(high)
            sources.append(high)
        os.chdir(request['cwd'])
        pid = spawn(request['file'], request['args'], request['env'], [(os.POSIX_SPAWN_DUP2, fd, index) for index, fd in enumerate(sources)])
    except Exception as error:
        say({'id': job, 'kind': 'error', 'code': errno.errorcode.get(getattr(error, 'errno', None)), 'message': str(error)})
        return
    finally:
        for item in held:
            if isinstance(item, socket.socket):
                item.close()
            else:
                os.close(item)
    jobs[pid] = job
    say({'id': job, 'kind': 'started', 'pid': pid})
def reap():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        job = jobs.pop(pid, None)
        if job is None:
            continue
        if os.WIFSIGNALED(status):
            try:
                name = signal.Signals(os.WTERMSIG(status)).name
            except ValueError:
                name = None
            say({'id': job, 'kind': 'exit', 'code': None, 'signal': name})
        else:
            say({'id': job, 'kind': 'exit', 'code': os.WEXITSTATUS(status), 'signal': None})
selector = selectors.DefaultSelector()
selector.register(0, selectors.EVENT_READ, 'requests')
selector.register(wake_read, selectors.EVENT_READ, 'children')
pending = b''
say({'kind': 'ready'})
while True:
    for key, _ in selector.select():
        if key.data == 'children':
            try:
                while os.read(wake_read, 4096):
                    pass
            except BlockingIOError:
                pass
            reap()
            continue
        data = os.read(0, 65536)
        if not data:
            # crucible closed its end, or died without cleaning up: the socket's folder goes too.
            try:
                os.unlink(socket_path)
                os.rmdir(os.path.dirname(socket_path))
            except OSError:
                pass
            os._exit(0)
        pending += data
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            start(json.loads(line))
`;

/** Reads the program, one JSON line, before anything else is sent: nothing is read ahead. */
const bootstrap = 'import json, sys; exec(json.loads(sys.stdin.readline()))';

const tokenLength = 32;
/** A connection's first bytes: the job's token, then the descriptor in two digits. */
const headerLength = tokenLength + 2;
/** A Unix socket's path is at most 107 bytes on Linux. */
const maxSocketPath = 100;
/** Where python3 is looked for first: the system's, whose start no shim wraps. */
const pythonPlaces = ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3'];

interface HostMessage extends HostReport {
  id?: number;
  kind: 'ready' | 'started' | 'error' | 'exit';
  pid?: number;
}

interface Job extends HostJob {
  id: number;
  token: string;
  exited: boolean;
  /** Which descriptors are pipes: a connection for any other is refused. */
  pipes: boolean[];
  pipeTimer?: NodeJS.Timeout;
}

/** Whether every pipe of the job has its connection. */
function allPipesIn(job: Job): boolean {
  return job.pipes.every((isPipe, fd) => !isPipe || job.stdio[fd] !== null);
}

/** The first python3 found, the system's before PATH's; null where there is none. */
export function findPython(env: NodeJS.ProcessEnv = process.env): string | null {
  const onPath = (env['PATH'] ?? '').split(path.delimiter).filter((dir) => dir !== '' && path.isAbsolute(dir)).map((dir) => path.join(dir, 'python3'));
  for (const candidate of [...pythonPlaces, ...onPath]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // the next place
    }
  }
  return null;
}

export class PythonSpawnHost {
  readonly kind = 'python';
  private readonly child: ChildProcess;
  private readonly server: Server;
  private readonly folder: string;
  private listening = false;
  private hostReady = false;
  private ended = false;
  private closing = false;
  private nextId = 0;
  private readonly jobs = new Map<number, Job>();
  private readonly byToken = new Map<string, Job>();
  /** Connections whose header has not come: they keep nothing alive, and end with the host. */
  private readonly unclaimed = new Set<Socket>();
  private pendingLine = '';

  /**
   * Starts the host with `python`; `onEnd` is called when it ends, with whether it had been ready
   * (one that never was has no posix_spawn, a Python too old, or is a shim that needs an
   * environment: the caller starts another kind).
   */
  constructor(
    python: string,
    private readonly onEnd: (wasReady: boolean) => void,
    private readonly pipeWaitMs = 30_000,
  ) {
    this.folder = mkdtempSync(path.join(tmpdir(), 'crucible-spawn-'));
    const socketPath = path.join(this.folder, 's');
    if (socketPath.length > maxSocketPath) {
      rmSync(this.folder, { recursive: true, force: true });
      throw new Error('the temporary folder is too deep for a Unix socket');
    }
    this.server = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    this.server.on('error', () => this.end());
    this.server.listen(socketPath, () => {
      this.listening = true;
    });
    try {
      // -I: no user site, no PYTHON* variables; -S: no site module, a faster start. The program
      // comes as the first line on stdin, so that `ps` shows a name, not a page of Python.
      this.child = childProcess().spawn(python, ['-I', '-S', '-c', bootstrap, socketPath], { argv0: 'crucible spawn host', stdio: ['pipe', 'pipe', 'ignore'], env: {} });
    } catch (error) {
      this.server.close();
      rmSync(this.folder, { recursive: true, force: true });
      throw error;
    }
    this.child.stdin?.write(`${JSON.stringify(hostProgram)}\n`);
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (text: string) => this.receiveText(text));
    this.child.stdin?.on('error', () => undefined);
    this.child.on('error', () => this.end());
    this.child.on('exit', () => this.end());
    this.settleRef();
  }

  get usable(): boolean {
    return this.listening && this.hostReady && !this.ended && !this.closing;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** posix_spawn searches no PATH: a bare name is started by Node, which does. */
  accepts(request: StartRequest): boolean {
    return path.isAbsolute(request.file);
  }

  start(request: StartRequest): Promise<StartedProcess | NodeJS.ErrnoException> {
    const id = this.nextId++;
    const token = randomBytes(tokenLength / 2).toString('hex');
    return new Promise((resolve) => {
      const job: Job = { ...newHostJob(request.stdio.length, resolve), id, token, exited: false, pipes: request.stdio.map((entry) => entry === 'pipe') };
      this.jobs.set(id, job);
      this.byToken.set(token, job);
      this.settleRef();
      // The host's own folder changes with every command: paths go as this process resolves them.
      const stdio = request.stdio.map((entry) => (typeof entry === 'object' ? { path: path.resolve(entry.path) } : entry));
      const line = `${JSON.stringify({ id, token, file: request.file, args: request.args, cwd: path.resolve(request.cwd), env: request.env, stdio })}\n`;
      const input = this.child.stdin;
      if (input === null || input.destroyed || this.ended) this.lose(id, job);
      else input.write(line, (error) => {
        if (error) this.lose(id, job);
      });
    });
  }

  close(): void {
    this.closing = true;
    if (this.jobs.size === 0) this.shutDown();
  }

  /** A connection from the host: its header names the job and the descriptor it is. */
  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    socket.unref();
    this.unclaimed.add(socket);
    let header = Buffer.alloc(0);
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (header.length < headerLength && (chunk = socket.read() as Buffer | null) !== null) header = Buffer.concat([header, chunk]);
      if (header.length < headerLength) return;
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      this.unclaimed.delete(socket);
      const rest = header.subarray(headerLength);
      if (rest.length > 0) socket.unshift(rest);
      const text = header.subarray(0, headerLength).toString('latin1');
      const job = this.byToken.get(text.slice(0, tokenLength));
      const fd = Number(text.slice(tokenLength));
      if (job === undefined || !Number.isInteger(fd) || job.pipes[fd] !== true || job.stdio[fd] !== null) {
        socket.destroy();
        return;
      }
      socket.ref();
      job.stdio[fd] = socket;
      this.settleIfStarted(job);
    };
    const onEnd = (): void => {
      this.unclaimed.delete(socket);
      socket.destroy();
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
  }

  private receiveText(text: string): void {
    this.pendingLine += text;
    let newline: number;
    while ((newline = this.pendingLine.indexOf('\n')) >= 0) {
      const line = this.pendingLine.slice(0, newline);
      this.pendingLine = this.pendingLine.slice(newline + 1);
      let message: HostMessage;
      try {
        message = JSON.parse(line) as HostMessage;
      } catch {
        continue;
      }
      this.receive(message);
    }
  }

  private receive(message: HostMessage): void {
    if (message.kind === 'ready') {
      this.hostReady = true;
      return;
    }
    const job = message.id === undefined ? undefined : this.jobs.get(message.id);
    if (job === undefined || message.id === undefined) return;
    if (message.kind === 'error') {
      this.forget(message.id, job);
      for (const socket of job.stdio) socket?.destroy();
      job.settleStart(startErrorOf(message));
      this.afterJob();
    } else if (message.kind === 'started') {
      job.pid = message.pid ?? null;
      this.settleIfStarted(job);
      if (!allPipesIn(job)) this.awaitPipes(message.id, job);
    } else if (message.kind === 'exit') {
      // A quick command's exit can come before its connections have been accepted: the job
      // waits for them, and ends once both are in.
      job.exited = true;
      job.settleExit(exitOf(message));
      this.settleIfStarted(job);
    }
  }

  /**
   * The host connected every pipe before it started the command, so they wait in the socket's
   * queue: one not taken within pipeWaitMs is lost (a guard; never seen). The check runs after
   * the loop's next poll, so a loop that was blocked takes the queue in first.
   */
  private awaitPipes(id: number, job: Job): void {
    job.pipeTimer = setTimeout(() => {
      setImmediate(() => {
        if (this.jobs.get(id) === job && !allPipesIn(job)) this.lose(id, job, 'a pipe of the command was lost on its way from the spawn host');
      });
    }, this.pipeWaitMs);
  }

  private settleIfStarted(job: Job): void {
    if (job.pid !== null && allPipesIn(job)) {
      clearTimeout(job.pipeTimer);
      this.byToken.delete(job.token);
      job.settleStart({ pid: job.pid, stdio: job.stdio, exit: job.exit });
      if (job.exited) {
        this.jobs.delete(job.id);
        this.afterJob();
      }
    }
  }

  private forget(id: number, job: Job): void {
    this.jobs.delete(id);
    this.byToken.delete(job.token);
  }

  /** A job whose host is gone: its group is killed, and it ends as a failure, never as a result. */
  private lose(id: number, job: Job, why = hostEnded): void {
    clearTimeout(job.pipeTimer);
    this.forget(id, job);
    endLostJob(job, why);
    this.afterJob();
  }

  private end(): void {
    if (this.ended) return;
    const wasReady = this.usable;
    this.ended = true;
    for (const [id, job] of [...this.jobs]) this.lose(id, job);
    this.shutDown();
    this.onEnd(wasReady);
  }

  private shutDown(): void {
    this.child.stdin?.end();
    this.server.close();
    for (const socket of this.unclaimed) socket.destroy();
    this.unclaimed.clear();
    rmSync(this.folder, { recursive: true, force: true });
  }

  private afterJob(): void {
    this.settleRef();
    if (this.closing && this.jobs.size === 0) this.shutDown();
  }

  /** The host keeps crucible alive only while a command it started runs. */
  private settleRef(): void {
    const busy = this.jobs.size > 0;
    for (const handle of [this.child, this.child.stdout, this.child.stdin, this.server]) {
      if (handle === null) continue;
      const refable = handle as unknown as { ref?: () => void; unref?: () => void };
      if (busy) refable.ref?.();
      else refable.unref?.();
    }
  }
}
