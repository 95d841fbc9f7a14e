import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { ProcessExit, StartedProcess, StartRequest } from './spawn-host.js';

/**
 * How other modules (git's adapter) start a process through the run's spawn host while one is up
 * (decisions 66). A module of its own, holding no more than the route: the read commands load
 * git's adapter but never start a host, and must not load the host's code (node:net, the host
 * programs) to find that out.
 */
export interface HostRoute {
  /** Whether a host is up and ready now. */
  ready(): boolean;
  /** As spawn-host.ts's startDetached: through the host (a new session), else from this process. */
  start(request: StartRequest): Promise<StartedProcess | NodeJS.ErrnoException>;
}

let route: HostRoute | null = null;

/** Set by spawn-host.ts while a run holds a host; null when none does. */
export function setHostRoute(next: HostRoute | null): void {
  route = next;
}

/** The route when a host is ready now; null: start processes as before. */
export function readyHostRoute(): HostRoute | null {
  return route?.ready() === true ? route : null;
}

/**
 * Writes `input` to a started process (when its stdin is a pipe), and gathers its output to the
 * end and its exit. Past `maxBytes` of output its group is killed and `overflow` set.
 */
export async function outputOf(child: StartedProcess, input: string, maxBytes: number): Promise<{ exit: ProcessExit; stdout: Buffer; stderr: Buffer; overflow: boolean }> {
  const [stdin, stdout, stderr] = child.stdio;
  let bytes = 0;
  let overflow = false;
  const gather = (stream: Socket | null | undefined): { chunks: Buffer[]; done: Promise<void> } => {
    const chunks: Buffer[] = [];
    if (!stream) return { chunks, done: Promise.resolve() };
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes && !overflow) {
        overflow = true;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      if (!overflow) chunks.push(chunk);
    });
    return { chunks, done: streamEnded(stream) };
  };
  const out = gather(stdout);
  const err = gather(stderr);
  // A process may exit before reading all of its input; its exit tells what happened.
  stdin?.on('error', () => undefined);
  stdin?.end(input);
  const [exit] = await Promise.all([child.exit, out.done, err.done]);
  stdout?.destroy();
  stderr?.destroy();
  return { exit, stdout: Buffer.concat(out.chunks), stderr: Buffer.concat(err.chunks), overflow };
}

/**
 * When `stream` has ended, closed or failed. A pipe the host handed over can have ended, even
 * closed, before the start was reported (a quick process with nothing to say on it): waiting for
 * an event it already sent would hang. It carried nothing then: unread data holds its end back.
 */
export function streamEnded(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
}
