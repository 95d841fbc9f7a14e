import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { cliPath, type TinyProject } from './project.js';

export interface DashboardProcess {
  child: ChildProcess;
  /** The URL it printed, token and all. */
  url: string;
  origin: string;
  token: string;
  stop(): Promise<void>;
}

/** `crucible dashboard` in the project, spawned; resolves once it has printed its URL. */
export async function startDashboardCli(project: TinyProject, args: readonly string[] = []): Promise<DashboardProcess> {
  const child = spawn(process.execPath, [cliPath, 'dashboard', ...args], { cwd: project.dir, env: project.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`crucible dashboard printed no URL in 15 s: ${stderr}`)), 15_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^(http:\/\/\S+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('close', (code) => reject(new Error(`crucible dashboard exited with ${code}: ${stderr}`)));
  });
  const parsed = new URL(url);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token') ?? '',
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A GET with a Host header of our choosing (fetch does not allow setting it). */
export function get(origin: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Answer> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = http.get({ host: hostname, port, path: pathAndQuery, headers, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timed out')));
  });
}

export interface EventStream {
  /** Each `run` event's data with the time it arrived. */
  events: Array<{ at: number; data: Record<string, unknown> }>;
  close(): void;
}

/** Follows the server-sent events of /api/events. */
export function followEvents(origin: string, token: string): Promise<EventStream> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const events: EventStream['events'] = [];
    const request = http.get({ host: hostname, port, path: `/api/events?token=${token}` }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`events: HTTP ${response.statusCode}`));
      let buffer = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame);
          if (/^event: run$/m.test(frame) && data) events.push({ at: Date.now(), data: JSON.parse(data[1]!) as Record<string, unknown> });
        }
      });
      resolve({ events, close: () => request.destroy() });
    });
    request.on('error', (error) => (events.length === 0 ? reject(error) : undefined));
  });
}
