// sandbox.js: runs one exported function of compress.js in a locked-down child process. Hidden.
//
// The child is a fresh Node process that:
//   - cannot generate code from strings (no eval, no new Function),
//   - may read nothing but compress.js and write no file, start no process (permission model),
//   - cannot import anything: a module hook refuses every specifier but compress.js itself,
//   - has no `process` global, and no CompressionStream / DecompressionStream globals,
// so compress.js cannot reach Node's built-in compressors, the harness, the texts of another
// call, or run.log. Its stdout and stderr are captured here and never forwarded, so it cannot
// print a metric line. Calls go over an IPC channel and are timed on this side.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** Starts `role` ('compress' | 'decompress') of the module at `file`; resolves once it has loaded. */
export async function startSandbox(file, role, deadline) {
  const url = pathToFileURL(file).href;
  const flags = ['--disallow-code-generation-from-strings', '--max-old-space-size=2048', '--no-warnings', ...permissionFlags(file)];
  const child = spawn(process.execPath, [...flags, '--input-type=module', '--eval', bootSource(url, role)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
    env: {},
  });
  const sandbox = new Sandbox(child, role);
  const ready = await sandbox.next(deadline);
  if (ready.kind !== 'ready') throw new SandboxError(ready.message ?? `compress.js could not start ${role}()`);
  return sandbox;
}

export class SandboxError extends Error {}

class Sandbox {
  constructor(child, role) {
    this.child = child;
    this.role = role;
    this.output = '';
    this.queue = [];
    this.waiter = null;
    this.exited = null;
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

  deliver(message) {
    if (this.waiter !== null) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve(message);
    } else this.queue.push(message);
  }

  /** The next message, or a SandboxError when the child dies or `deadline` (ms, performance.now) passes. */
  async next(deadline) {
    const message =
      this.queue.length > 0
        ? this.queue.shift()
        : await new Promise((resolve) => {
            this.waiter = resolve;
            const timer = setTimeout(() => this.deliver('timeout'), Math.max(0, deadline - performance.now()));
            timer.unref();
          });
    if (message === 'timeout') {
      this.kill();
      throw new SandboxError(`${this.role}() was too slow: its time limit ran out`);
    }
    if (message === null) throw new SandboxError(`the process running compress.js died (${this.exited})${this.lastOutput()}`);
    return message;
  }

  /** Calls the function with `input`; the reply ({ kind: 'result', value } or { kind: 'error', message }) and its time. */
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
    if (this.exited === null) this.child.kill('SIGKILL');
  }
}

function permissionFlags(file) {
  // Node 20 spells the permission model --experimental-permission; later versions --permission.
  const allowed = process.allowedNodeEnvironmentFlags;
  const flag = allowed.has('--permission') ? '--permission' : allowed.has('--experimental-permission') ? '--experimental-permission' : null;
  // The module hook runs on a worker thread, hence --allow-worker; compress.js itself has no way
  // to start one (it cannot import node:worker_threads).
  return flag === null ? [] : [flag, `--allow-fs-read=${file}`, '--allow-worker'];
}

function bootSource(url, role) {
  const hook = `export async function resolve(specifier, context, next) {
    const resolved = await next(specifier, context);
    if (resolved.url !== ${JSON.stringify(url)}) throw new Error('compress.js may not import anything (it imported "' + specifier + '")');
    return resolved;
  }`;
  return `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
const channel = process;
const send = (message) => channel.send(message);
const U8 = Uint8Array;
const describe = (error) => (error instanceof Error ? error.message : String(error)).split('\\n')[0].slice(0, 300);
for (const name of ['process', 'CompressionStream', 'DecompressionStream']) delete globalThis[name];
let fn;
try {
  const module = await import(${JSON.stringify(url)});
  fn = module[${JSON.stringify(role)}];
  if (typeof fn !== 'function') throw new Error('compress.js does not export a function ${role}()');
} catch (error) {
  send({ kind: 'load-error', message: 'cannot load compress.js: ' + describe(error) });
  channel.disconnect();
}
if (fn !== undefined) {
  channel.on('message', (input) => {
    let reply;
    try {
      const arg = ${role === 'decompress' ? 'new U8(input)' : 'input'};
      reply = { kind: 'result', value: fn(arg) };
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
