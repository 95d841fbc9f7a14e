/**
 * The Claude Agent SDK is an optional peer dependency (its CLI is a ~400 MB native binary): it is
 * imported only when a run uses this backend, and its absence is a one-line fix for the user.
 */
import type * as ClaudeAgentSdk from '@anthropic-ai/claude-agent-sdk';
import { AgentError } from '../../errors.js';

export type AgentSdk = typeof ClaudeAgentSdk;

export const AGENT_SDK = '@anthropic-ai/claude-agent-sdk';

export const MISSING_SDK_MESSAGE = `agent.type claude-code needs ${AGENT_SDK}: npm install -g ${AGENT_SDK} (or use agent.type: api)`;

/** Imports the SDK; `specifier` exists so that a test can name a package that is not installed. */
export async function loadAgentSdk(specifier: string = AGENT_SDK): Promise<AgentSdk> {
  try {
    return (await import(specifier)) as AgentSdk;
  } catch (error) {
    if (isNotFound(error, specifier)) throw new AgentError('fatal', MISSING_SDK_MESSAGE, { cause: error });
    const reason = error instanceof Error ? error.message : String(error);
    throw new AgentError('fatal', `cannot load ${specifier}: ${reason.split('\n')[0] ?? reason}`, { cause: error });
  }
}

/** The package itself is missing, not something it imports in turn. */
function isNotFound(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return error instanceof Error && error.message.includes(`'${specifier}'`);
}
