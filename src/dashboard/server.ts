import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Direction } from '../core/objective.js';
import { UsageError } from '../errors.js';
import { artifactKinds, pagePolicy, renderPage, type ArtifactKind } from '../report/html/page.js';
import { readTrialText } from '../report/html/trial-texts.js';
import { isValidTag } from '../store/run-paths.js';
import { ProjectFeed, type RunUpdate } from './project-feed.js';

export interface DashboardOptions {
  /** A real path. */
  projectDir: string;
  projectName: string;
  metric: { name: string; direction: Direction };
  /** 0 (the default): a free port. */
  port?: number;
  /** For tests; a random 128-bit one otherwise. */
  token?: string;
}

export interface Dashboard {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

// The most of one text a request returns: a run log can be gigabytes; its end is what matters.
const MAX_TEXT_BYTES = 2 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;
const HOST = '127.0.0.1';

/**
 * The read-only dashboard: on 127.0.0.1 only, every request carrying the token the URL was
 * printed with (other users of the machine can reach the port, not the token), and the Host
 * header naming this server (a web page cannot make the browser talk to it by rebinding a name to
 * 127.0.0.1). It serves the page, the runs folded from their ledgers, and the texts of the
 * trials: nothing else of the project, and nothing is ever written.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const token = options.token ?? randomBytes(16).toString('hex');
  const feed = new ProjectFeed(options.projectDir, options.metric);
  await feed.start();
  const page = renderPage({ mode: 'live', project: options.projectName });
  const streams = new Set<ServerResponse>();
  const unsubscribe = feed.onUpdate((update) => broadcast(streams, update));
  let port = 0;

  const server = createServer((request, response) => {
    try {
      handle(request, response);
    } catch {
      if (!response.headersSent) send(response, 500, 'text/plain', 'internal error\n');
      else response.end();
    }
  });
  // Slow or idle clients cannot hold sockets for ever; event streams are kept alive by the heartbeat.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;

  function handle(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'read-only: GET only\n');
    if (!hostAllowed(request.headers.host, port)) return send(response, 403, 'text/plain', 'forbidden: unknown Host\n');
    const url = new URL(request.url ?? '/', `http://${HOST}`);
    if (!tokenMatches(url.searchParams.get('token'), token)) return send(response, 403, 'text/plain', 'forbidden: open the URL crucible dashboard printed (it carries a token)\n');
    const parts = url.pathname.split('/').slice(1).map(safeDecode);
    if (url.pathname === '/') return send(response, 200, 'text/html; charset=utf-8', page);
    if (parts[0] !== 'api' || parts.some((part) => part === null)) return notFound(response);
    const [, what, tag, trialWord, trial, kind] = parts as string[];
    if (what === 'runs' && parts.length === 2) return send(response, 200, 'application/json', JSON.stringify(feed.listRuns()));
    if (what === 'events' && parts.length === 2) return openStream(request, response);
    if (what !== 'run' || tag === undefined || !isValidTag(tag)) return notFound(response);
    if (parts.length === 3) {
      if (!/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
        const json = feed.runJson(tag);
        return json === null ? notFound(response) : send(response, 200, 'application/json', json);
      }
      const gzipped = feed.runGzip(tag);
      return gzipped === null ? notFound(response) : send(response, 200, 'application/json', gzipped, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    }
    if (parts.length !== 6 || trialWord !== 'trial' || !/^\d{1,9}$/.test(trial ?? '') || !(artifactKinds as readonly string[]).includes(kind ?? '')) return notFound(response);
    const text = feed.runJson(tag) === null ? null : readTrialText(options.projectDir, tag, Number(trial), kind as ArtifactKind, MAX_TEXT_BYTES);
    return text === null ? notFound(response) : send(response, 200, 'text/plain; charset=utf-8', text.text);
  }

  function openStream(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    response.write(': connected\n\n');
    streams.add(response);
    request.socket.setTimeout(0);
    const beat = setInterval(() => response.write(': beat\n\n'), HEARTBEAT_MS);
    beat.unref();
    request.on('close', () => {
      clearInterval(beat);
      streams.delete(response);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      feed.stop();
      reject(error.code === 'EADDRINUSE' ? new UsageError(`port ${options.port} is in use on ${HOST}: pick another with --port, or leave it out for a free one`) : error);
    });
    server.listen(options.port ?? 0, HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    close: () => closeServer(server, streams, () => {
      unsubscribe();
      feed.stop();
    }),
  };
}

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': pagePolicy('live'),
};

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function notFound(response: ServerResponse): void {
  send(response, 404, 'text/plain', 'not found\n');
}

function broadcast(streams: ReadonlySet<ServerResponse>, update: RunUpdate): void {
  const frame = `event: run\ndata: ${JSON.stringify(update)}\n\n`;
  for (const stream of streams) stream.write(frame);
}

function hostAllowed(host: string | undefined, port: number): boolean {
  return host === `${HOST}:${port}` || host === `localhost:${port}`;
}

function tokenMatches(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A path segment decoded, or null when it is malformed or names a folder step ("..", "/", "\\"). */
function safeDecode(segment: string): string | null {
  try {
    const decoded = decodeURIComponent(segment);
    return decoded === '..' || decoded === '.' || /[/\\\0]/.test(decoded) ? null : decoded;
  } catch {
    return null;
  }
}

async function closeServer(server: Server, streams: Set<ServerResponse>, done: () => void): Promise<void> {
  done();
  for (const stream of streams) stream.end();
  streams.clear();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
