/**
 * One cheap authenticated request before the run starts (GET <base>/models, which Anthropic,
 * OpenAI and most compatible servers answer), so a wrong key or a server that is not running
 * stops the run before anything is created. Only a refused key and an endpoint that cannot be
 * reached are fatal: a 404 from a server without /models, a rate limit or an outage is not.
 */
import { AgentError } from '../../errors.js';
import { classifyAgentError } from '../classify-error.js';
import { credentialContext, type ApiSettings } from './providers.js';

const PREFLIGHT_TIMEOUT_MS = 15_000;

export async function checkEndpoint(settings: ApiSettings, signal: AbortSignal): Promise<void> {
  const url = `${settings.baseUrl}/models`;
  const timeout = AbortSignal.timeout(PREFLIGHT_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, { headers: authHeaders(settings), signal: AbortSignal.any([signal, timeout]) });
  } catch (error) {
    if (signal.aborted) throw new AgentError('failed', 'canceled', { cause: error });
    throw new AgentError('fatal', `cannot reach ${settings.baseUrl}: ${whyUnreachable(error, timeout.aborted)}${where(settings)}`, { cause: error });
  }
  const body = await response.text().catch(() => '');
  if (response.status === 401 || response.status === 403) {
    const context = { ...credentialContext(settings), endpoint: settings.baseUrl };
    throw classifyAgentError(Object.assign(new Error(`HTTP ${response.status}`), { statusCode: response.status, responseBody: body }), context);
  }
}

function authHeaders(settings: ApiSettings): Record<string, string> {
  if (settings.apiKey === undefined) return {};
  if (settings.provider === 'anthropic') return { 'x-api-key': settings.apiKey, 'anthropic-version': '2023-06-01' };
  return { authorization: `Bearer ${settings.apiKey}` };
}

function whyUnreachable(error: unknown, timedOut: boolean): string {
  if (timedOut) return `no answer within ${PREFLIGHT_TIMEOUT_MS / 1000}s`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown; hostname?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused; is the server running?';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host ${typeof cause?.hostname === 'string' ? cause.hostname : 'name'} not found`;
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function where(settings: ApiSettings): string {
  return settings.customBaseUrl ? ' (agent.base_url)' : '; check the network, or set agent.base_url';
}
