// sandbox.js: runs chooseMove() of agent.js in a locked-down child process. Hidden.
//
// The child is a fresh Node process that:
//   - cannot generate code from strings (no eval, no new Function),
//   - may read nothing but agent.js and game.js and write no file, start no process
//     (Node's permission model),
//   - can import nothing but those two files (a module hook refuses every other specifier),
//   - has no `process` global, and a seeded Math.random, so a run can be repeated,
// so agent.js cannot reach the harness, its engine or its seeds, or write run.log. Its stdout
// and stderr are captured here and never forwarded, so it cannot print a metric line. Every call
// goes over an IPC channel and is timed on this side.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export class SandboxError extends Error {}

/**
 * Starts a child that answers each message with `fn(message)`, where fn is the export `name` of
 * `file`, which may import `allowed` files too; resolves once it has loaded, or throws a
 * SandboxError (cannot load, no such export, `deadline` passed).
 */
export async function startSandbox({ file, name, allowed, deadline, randomSeed }) {
  const urls = [file, ...allowed].map((f) => pathToFileURL(f).href);
  const flags = ['--disallow-code-generation-from-strings', '--max-old-space-size=1024', '--no-warnings', ...permissionFlags([file, ...allowed])];
  const child = spawn(process.execPath, [...flags, '--input-type=module', '--eval', bootSource(urls, name, randomSeed)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
    env: {},
  });
  const sandbox = new Sandbox(child);
  const ready = await sandbox.next(deadline).catch((error) => {
    sandbox.kill();
    throw sandbox.timedOut ? new SandboxError('agent.js did not load in time (is there an endless loop at the top level?)') : error;
  });
  if (ready.kind !== 'ready') {
    sandbox.kill();
    throw new SandboxError(ready.message ?? 'agent.js could not start');
  }
  return sandbox;
}

class Sandbox {
  constructor(child) {
    this.child = child;
    this.output = '';
    this.queue = [];
    this.waiter = null;
    this.exited = null;
    this.killed = false;
    this.timedOut = false;
    const keep = (chunk) => {
      // Only the last few KiB, for a diagnosis; never printed as is.
      this.output = (this.output + chunk.toString('utf8')).slice(-4096);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('message', (message) => this.deliver(message));
    child.on('exit', (code, signal) => {
      this.exited = signal ?? `exit code ${code}`;
      this.deliver(null);
    });
    child.on('error', (error) => {
      this.exited = error.message;
      this.deliver(null);
    });
  }

  get alive() {
    return this.exited === null && !this.killed;
  }

  deliver(message) {
    if (this.waiter !== null) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve(message);
    } else this.queue.push(message);
  }

  /** The next message; a SandboxError when the child dies or `deadline` (performance.now ms) passes. */
  async next(deadline) {
    let timer;
    const message =
      this.queue.length > 0
        ? this.queue.shift()
        : await new Promise((resolve) => {
            this.waiter = resolve;
            timer = setTimeout(() => this.deliver('timeout'), Math.max(0, deadline - performance.now()));
          });
    clearTimeout(timer);
    if (message === 'timeout') {
      this.timedOut = true;
      this.kill();
      throw new SandboxError('the time limit ran out');
    }
    if (message === null) throw new SandboxError(`the process running agent.js died (${this.exited})${this.lastOutput()}`);
    return message;
  }

  /** Calls the function with `input`: its reply ({ kind: 'result', value } or { kind: 'error' | 'malformed', message }) and time. */
  async call(input, deadline) {
    const started = performance.now();
    this.child.send(input);
    const reply = await this.next(deadline);
    return { reply, ms: performance.now() - started };
  }

  /** What the child printed last, as a hint: the fatal error line when there is one. */
  lastOutput() {
    const printed = this.output.trim().split('\n');
    const fatal = printed.find((line) => /FATAL ERROR|Error:/.test(line));
    const text = fatal ?? printed.slice(-3).join(' | ');
    return text === '' ? '' : `: ${text.trim()}`;
  }

  kill() {
    if (this.alive) this.child.kill('SIGKILL');
    this.killed = true;
  }
}

function permissionFlags(files) {
  // Node 20 spells the permission model --experimental-permission; later versions --permission.
  const known = process.allowedNodeEnvironmentFlags;
  const flag = known.has('--permission') ? '--permission' : known.has('--experimental-permission') ? '--experimental-permission' : null;
  // The module hook runs on a worker thread, hence --allow-worker; agent.js itself has no way to
  // start one (it cannot import node:worker_threads).
  return flag === null ? [] : [flag, ...files.map((f) => `--allow-fs-read=${f}`), '--allow-worker'];
}

function bootSource(urls, name, randomSeed) {
  const hook = `const allowed = new Set(${JSON.stringify(urls)});
  export async function resolve(specifier, context, next) {
    const resolved = await next(specifier, context);
    if (!allowed.has(resolved.url)) throw new Error('agent.js may import only ./game.js (it imported "' + specifier + '")');
    return resolved;
  }`;
  return `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
const channel = process;
const send = (message) => channel.send(message);
const describe = (error) => (error instanceof Error ? error.message : String(error)).split('\\n')[0].slice(0, 300);
let seed = ${Number(randomSeed) >>> 0};
Math.random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
delete globalThis.process;
let fn;
try {
  const module = await import(${JSON.stringify(urls[0])});
  fn = module[${JSON.stringify(name)}];
  if (typeof fn !== 'function') throw new Error('agent.js does not export a function ${name}()');
} catch (error) {
  send({ kind: 'load-error', message: 'cannot load agent.js: ' + describe(error) });
  channel.disconnect();
}
if (fn !== undefined) {
  channel.on('message', (input) => {
    let reply;
    try {
      reply = { kind: 'result', value: fn(input) };
    } catch (error) {
      reply = { kind: 'error', message: describe(error) };
    }
    try {
      send(reply);
    } catch (error) {
      send({ kind: 'malformed', message: 'the result cannot be passed back: ' + describe(error) });
    }
  });
  send({ kind: 'ready' });
}
`;
}
