/**
 * What a failed model call means for the loop: a rejected key stops the run ('fatal'), a rate
 * limit, an overload or a dropped connection is retried with backoff ('transient'), anything
 * else fails this trial ('failed'). Shared by every LLM backend; it reads errors by their shape
 * (status codes, error codes, provider error types in the text), so it imports no SDK.
 */
import { AgentError } from '../errors.js';

export interface ErrorContext {
  /** Says which credential a 401/403 rejected, e.g. "agent.api_key_env: the key in OPENAI_API_KEY". */
  credentials?: string;
  /** What to do about a 401/403, appended to its message, e.g. "set agent.api_key_env". */
  authHint?: string;
  /** The endpoint, for messages about connections, e.g. "https://api.openai.com/v1". */
  endpoint?: string;
}

const STATUS_LABELS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  529: 'Overloaded',
};

/** Node and undici codes of a connection that failed or dropped: worth another try. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Provider error types and phrases that name a status when the error carries only text. */
const TEXT_STATUS: [RegExp, number][] = [
  [/authentication_error|invalid[ _-]?(x-)?api[ _-]?key|incorrect api key|unauthorized/i, 401],
  [/permission_error|\bforbidden\b/i, 403],
  [/overloaded_error|\boverloaded\b/i, 529],
  [/rate_limit_error|rate[ -]limit|too many requests/i, 429],
  [/not_found_error/i, 404],
];

/** Turns whatever a model call threw into the AgentError the loop acts on. */
export function classifyAgentError(error: unknown, context: ErrorContext = {}): AgentError {
  if (error instanceof AgentError) return error;
  const chain = causeChain(error);
  const options = { cause: error };

  const aborted = chain.find((e) => e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError'));
  if (aborted instanceof Error) {
    return aborted.name === 'TimeoutError' ? new AgentError('timeout', 'the agent ran past its time limit', options) : new AgentError('failed', 'canceled', options);
  }

  const detail = detailOf(chain);
  const status = statusOf(chain) ?? statusInText(detail);
  if (status !== undefined) {
    const what = `${status} ${STATUS_LABELS[status] ?? 'error'}`;
    if (status === 401 || status === 403) {
      const hint = context.authHint === undefined ? '' : `; ${context.authHint}`;
      return new AgentError('fatal', `${context.credentials ?? 'the API key'} was rejected (${what})${suffix(detail)}${hint}`, options);
    }
    if (status === 404) {
      // A wrong model name or base URL: every trial would fail the same way.
      return new AgentError('fatal', `the model API answered ${what}${suffix(detail)}; check agent.model and agent.base_url`, options);
    }
    if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) {
      return new AgentError('transient', `the model API answered ${what}${suffix(detail)}`, options);
    }
    return new AgentError('failed', `the model API refused the request (${what})${suffix(detail)}`, options);
  }

  const code = chain.map(codeOf).find((c) => c !== undefined && NETWORK_CODES.has(c));
  if (code !== undefined || /fetch failed|socket hang up|cannot connect to api|network error|other side closed/i.test(detail)) {
    const where = context.endpoint ?? 'the model API';
    return new AgentError('transient', `lost the connection to ${where}: ${code ?? detail}`, options);
  }
  return new AgentError('failed', detail === '' ? 'the model call failed' : detail, options);
}

/** The HTTP status an error carries (APICallError.statusCode, `status`), searching its causes. */
export function httpStatusOf(error: unknown): number | undefined {
  return statusOf(causeChain(error));
}

/** The error, what it wraps (`lastError` of a retry error, `cause`), and so on, a few levels deep. */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 6 && !chain.includes(current)) {
    chain.push(current);
    const record = current as { lastError?: unknown; cause?: unknown };
    current = typeof current === 'object' ? (record.lastError ?? record.cause) : undefined;
  }
  return chain;
}

function statusOf(chain: readonly unknown[]): number | undefined {
  for (const e of chain) {
    if (typeof e !== 'object' || e === null) continue;
    const record = e as { statusCode?: unknown; status?: unknown };
    const value = typeof record.statusCode === 'number' ? record.statusCode : record.status;
    if (typeof value === 'number' && value >= 400 && value <= 599) return value;
  }
  return undefined;
}

function statusInText(text: string): number | undefined {
  const explicit = /\b(?:API Error|status(?: code)?|HTTP)\s*:?\s*([45]\d\d)\b/i.exec(text);
  if (explicit) return Number(explicit[1]);
  return TEXT_STATUS.find(([re]) => re.test(text))?.[1];
}

function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The most telling message: the provider's own error text when the response body has one. */
function detailOf(chain: readonly unknown[]): string {
  for (const e of chain) {
    const body = typeof e === 'object' && e !== null ? (e as { responseBody?: unknown }).responseBody : undefined;
    const fromBody = typeof body === 'string' ? messageInBody(body) : undefined;
    if (fromBody) return oneLine(fromBody);
  }
  const first = chain[0];
  if (first instanceof Error) return oneLine(first.message);
  return typeof first === 'string' ? oneLine(first) : first === undefined || first === null ? '' : oneLine(JSON.stringify(first) ?? '');
}

function messageInBody(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const inner = parsed.error;
    if (typeof inner === 'string') return inner;
    if (typeof inner === 'object' && inner !== null && typeof (inner as { message?: unknown }).message === 'string') return (inner as { message: string }).message;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: a proxy's HTML page, say; the error's own message is better
  }
  return undefined;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

function suffix(detail: string): string {
  return detail === '' ? '' : `: ${detail}`;
}
