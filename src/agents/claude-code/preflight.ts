/**
 * Before the run creates anything: credentials present, and, for an API key or token, one cheap
 * authenticated request (GET /v1/models, which costs nothing) that a 401 or 403 makes fatal. An
 * endpoint that cannot be reached is fatal too; a 404 (a gateway without /v1/models), a rate
 * limit or an outage is not. A login or an OAuth token is only checked for presence: the models
 * endpoint does not speak for them, and the first trial reports a rejected one as fatal anyway.
 */
import { AgentError } from '../../errors.js';
import { classifyAgentError } from '../classify-error.js';
import { CREDENTIALS_HINT, endpointOf, findCredentials, type CredentialSource } from './environment.js';
import { credentialContext } from './session-result.js';

const PREFLIGHT_TIMEOUT_MS = 15_000;

export async function checkClaudeCredentials(env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<CredentialSource> {
  const credentials = findCredentials(env);
  if (credentials.kind === 'none') throw new AgentError('fatal', `agent.type claude-code has no credentials: ${CREDENTIALS_HINT}`);
  if (credentials.kind !== 'key' || credentials.variable === 'CLAUDE_CODE_OAUTH_TOKEN') return credentials;
  // fetch ignores HTTPS_PROXY, which Claude Code honours: behind a proxy this check would fail
  // where the agent works, so the first trial checks the key instead.
  if (['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((name) => env[name])) return credentials;
  await checkEndpoint(env, credentials, signal);
  return credentials;
}

async function checkEndpoint(env: NodeJS.ProcessEnv, credentials: CredentialSource, signal: AbortSignal): Promise<void> {
  const endpoint = endpointOf(env);
  const timeout = AbortSignal.timeout(PREFLIGHT_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(`${endpoint}/v1/models?limit=1`, { headers: authHeaders(env), signal: AbortSignal.any([signal, timeout]) });
  } catch (error) {
    if (signal.aborted) throw new AgentError('failed', 'canceled', { cause: error });
    const where = env['ANTHROPIC_BASE_URL'] ? 'check ANTHROPIC_BASE_URL' : 'check the network';
    throw new AgentError('fatal', `cannot reach ${endpoint}: ${whyUnreachable(error, timeout.aborted)}; ${where}`, { cause: error });
  }
  const body = await response.text().catch(() => '');
  if (response.status === 401 || response.status === 403) {
    throw classifyAgentError(Object.assign(new Error(`HTTP ${response.status}`), { statusCode: response.status, responseBody: body }), credentialContext(credentials, env));
  }
}

/** The headers Claude Code itself sends for these credentials. */
function authHeaders(env: NodeJS.ProcessEnv): Record<string, string> {
  const headers: Record<string, string> = { 'anthropic-version': '2023-06-01' };
  if (env['ANTHROPIC_API_KEY']) headers['x-api-key'] = env['ANTHROPIC_API_KEY'];
  if (env['ANTHROPIC_AUTH_TOKEN']) headers['authorization'] = `Bearer ${env['ANTHROPIC_AUTH_TOKEN']}`;
  return headers;
}

function whyUnreachable(error: unknown, timedOut: boolean): string {
  if (timedOut) return `no answer within ${PREFLIGHT_TIMEOUT_MS / 1000}s`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown; hostname?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host ${typeof cause?.hostname === 'string' ? cause.hostname : 'name'} not found`;
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
