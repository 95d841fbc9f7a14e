// harness/session.js: one worker running agent code, seen from the parent. Its stdout and stderr
// are captured (never forwarded: agent code cannot print a metric line) and only a short tail is
// kept for crash messages. Replies come over a private MessagePort.
import { Worker, MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { threadCpuMs } from './cpu-clock.js';

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));
const TAIL_CHARS = 2000;

/** A failure that makes the whole experiment a crash: exit 1, no metric. */
export class Crash extends Error {}

export class Session {
  constructor(workerData) {
    this.output = '';
    this.tid = null;
    this.cpuBase = 0;
    this.lastCpu = 0;
    this.ended = null; // why the worker is gone, once it is
    this.waiting = null;
    this.queue = []; // messages that arrived while nobody was waiting
    this.killedFor = null; // set when the harness stopped the worker on purpose
    this.worker = new Worker(workerFile, {
      workerData,
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
    });
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        this.output = (this.output + chunk).slice(-TAIL_CHARS);
      });
    }
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.port.on('message', (msg) => this.settle({ msg }));
    this.worker.on('error', (error) => this.end(`the agent's worker failed: ${error?.message ?? String(error)}`));
    this.worker.on('exit', (code) => this.end(`the agent's worker exited (code ${code})`));
    this.worker.postMessage({ port: channel.port2 }, [channel.port2]);
  }

  /** Waits for the worker's first message: its thread id and CPU clock, sent before agent.js loads. */
  async start(limitMs) {
    const reply = await this.expect('hello', limitMs, 'starting a worker');
    this.tid = reply.msg.tid;
    this.cpuBase = this.tid === null ? performance.now() : reply.msg.cpu;
  }

  /** CPU milliseconds the worker thread has used since it said hello (wall time without /proc). */
  cpuMs() {
    try {
      this.lastCpu = (this.tid === null ? performance.now() : threadCpuMs(this.tid)) - this.cpuBase;
    } catch {
      // The thread is gone: keep the last reading.
    }
    return this.lastCpu;
  }

  /** Stops the worker once it has used more than `limitMs` of CPU; returns a function that stops watching. */
  limitCpu(limitMs, reason) {
    const timer = setInterval(() => {
      if (this.cpuMs() > limitMs) {
        clearInterval(timer);
        this.killedFor = reason;
        this.end(reason);
        void this.worker.terminate();
      }
    }, 50);
    return () => clearInterval(timer);
  }

  end(reason) {
    if (this.ended === null) this.ended = reason;
    this.settle({ ended: this.ended });
  }

  settle(value) {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting !== null) waiting(value);
    else if (value.msg !== undefined) this.queue.push(value);
  }

  /**
   * The next message from the worker, or { timedOut } after `limitMs`, or { ended } when it died.
   * Sends `msg` first when given. Time is measured here, on the harness's side.
   */
  next(limitMs, msg) {
    if (msg === undefined && this.queue.length > 0) return Promise.resolve({ ...this.queue.shift(), ms: 0 });
    if (this.ended !== null) return Promise.resolve({ ended: this.ended, ms: 0 });
    const started = performance.now();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle({ timedOut: true }), Math.max(1, limitMs));
      this.waiting = (value) => {
        clearTimeout(timer);
        resolve({ ...value, ms: performance.now() - started });
      };
      if (msg !== undefined) this.port.postMessage(msg);
    });
  }

  /** The next message; a worker error message, a death or a timeout becomes a Crash. */
  async expect(type, limitMs, what, msg) {
    const reply = await this.next(limitMs, msg);
    if (reply.timedOut) throw new Crash(`${what} took more than ${(limitMs / 1000).toFixed(1)}s`);
    if (reply.ended !== undefined) throw new Crash(this.killedFor ?? `${reply.ended} during ${what}${this.outputNote()}`);
    if (reply.msg.type === 'error') throw new Crash(reply.msg.message);
    if (reply.msg.type !== type) throw new Crash(`unexpected ${reply.msg.type} message during ${what}`);
    return reply;
  }

  outputNote() {
    const tail = this.output.trim().split('\n').slice(-5).join(' | ').slice(-500);
    return tail === '' ? '' : ` (agent output: ${tail})`;
  }

  async close() {
    this.ended ??= 'closed';
    this.port.close();
    await this.worker.terminate();
  }
}
