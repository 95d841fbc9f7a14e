/**
 * Reading Claude Code's result message: what the session cost, and what a failed one means for
 * the loop. API errors arrive as a result with `is_error` and the HTTP status in
 * `api_error_status`; a refused connection has no status, only its error code in the text.
 */
import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { AgentError } from '../../errors.js';
import { classifyAgentError, type ErrorContext } from '../classify-error.js';
import type { AgentUsage } from '../types.js';
import { endpointOf, type CredentialSource } from './environment.js';

/** Token totals over every model call of the session (modelUsage; `usage` covers the main loop only), and the SDK's cost. */
export function usageOfResult(result: SDKResultMessage): AgentUsage {
  const models = Object.values(result.modelUsage ?? {});
  const sum = (pick: (m: (typeof models)[number]) => number | undefined): number => models.reduce((total, m) => total + (pick(m) ?? 0), 0);
  const counts =
    models.length > 0
      ? { inputTokens: sum((m) => m.inputTokens), outputTokens: sum((m) => m.outputTokens), cacheReadTokens: sum((m) => m.cacheReadInputTokens), cacheWriteTokens: sum((m) => m.cacheCreationInputTokens) }
      : {
          inputTokens: result.usage?.input_tokens ?? 0,
          outputTokens: result.usage?.output_tokens ?? 0,
          cacheReadTokens: result.usage?.cache_read_input_tokens ?? 0,
          cacheWriteTokens: result.usage?.cache_creation_input_tokens ?? 0,
        };
  return { ...counts, costUsd: typeof result.total_cost_usd === 'number' ? result.total_cost_usd : null };
}

/** Why the session failed, as the AgentError the loop acts on; null when it did not. */
export function errorOfResult(result: SDKResultMessage, context: ErrorContext): AgentError | null {
  if (result.subtype !== 'success') {
    const errors = result.errors.filter((e) => e.trim() !== '');
    return classifyClaudeError(new Error(`Claude Code stopped (${result.subtype})${errors.length > 0 ? `: ${errors.join('; ')}` : ''}`), context);
  }
  if (!result.is_error) return null;
  const status = result.api_error_status ?? undefined;
  return classifyClaudeError(Object.assign(new Error(result.result), status === undefined ? {} : { status }), context);
}

/** classifyAgentError, plus the two failures Claude Code reports only in words. */
export function classifyClaudeError(error: unknown, context: ErrorContext): AgentError {
  const message = error instanceof Error ? error.message : String(error);
  if ((error as { status?: unknown }).status === undefined) {
    if (/not logged in|please run \/login|invalid api key|oauth token (has )?(expired|revoked)/i.test(message)) {
      return new AgentError('fatal', `${context.credentials ?? 'the credentials'} did not work: ${oneLine(message)}${context.authHint ? `; ${context.authHint}` : ''}`, { cause: error });
    }
    const code = /\b(E[A-Z]{4,}|UND_ERR_[A-Z_]+)\b/.exec(message)?.[1];
    if (code !== undefined || /connection (refused|reset|error)|socket hang up|network|timed? ?out/i.test(message)) {
      return new AgentError('transient', `lost the connection to ${context.endpoint ?? 'the model API'}: ${oneLine(message)}`, { cause: error });
    }
  }
  return classifyAgentError(error, context);
}

/** What a 401 or 403 rejected, and what the user should do about it. */
export function credentialContext(credentials: CredentialSource, env: NodeJS.ProcessEnv): ErrorContext {
  const endpoint = endpointOf(env);
  const customEndpoint = env['ANTHROPIC_BASE_URL'] ? ` (sent to ANTHROPIC_BASE_URL=${endpoint})` : '';
  switch (credentials.kind) {
    case 'key':
      return {
        credentials: `the ${credentials.variable === 'ANTHROPIC_API_KEY' ? 'key' : 'token'} in ${credentials.variable}`,
        authHint:
          credentials.variable === 'CLAUDE_CODE_OAUTH_TOKEN'
            ? 'make a new one with `claude setup-token`'
            : `set a valid one in ${credentials.variable}${customEndpoint}`,
        endpoint,
      };
    case 'cloud':
      return { credentials: `the ${credentials.variable === 'CLAUDE_CODE_USE_BEDROCK' ? 'AWS Bedrock' : 'Google Vertex'} credentials`, authHint: 'check them, or set ANTHROPIC_API_KEY instead', endpoint };
    case 'login':
      return { credentials: `the Claude login in ${credentials.configDir}`, authHint: 'log in again with `claude` (/login), or set ANTHROPIC_API_KEY', endpoint };
    case 'none':
      return { credentials: 'the credentials', authHint: 'set ANTHROPIC_API_KEY, or log in with `claude`', endpoint };
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
