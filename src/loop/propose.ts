import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentBackend, Proposal, ProposalRequest } from '../agents/types.js';
import { AgentError } from '../errors.js';

export interface ProposeOptions {
  timeoutMs: number;
  /** Ctrl+C pressed twice, or SIGTERM. */
  signal: AbortSignal;
  /** Waits before the retries of a transient failure (rate limit, overload, network). */
  retryDelaysMs?: readonly number[];
  onRetry?: (attempt: number, error: AgentError, delayMs: number) => void;
}

const DEFAULT_RETRY_DELAYS_MS = [2_000, 5_000, 15_000, 30_000, 60_000];

/**
 * Asks the agent for one proposal within the time limit. Transient failures are retried with
 * backoff and never become trials; every other failure comes back as an AgentError whose kind
 * the loop acts on ('timeout' when the limit was hit, whatever the backend threw then).
 */
export async function propose(agent: AgentBackend, request: ProposalRequest, options: ProposeOptions): Promise<Proposal> {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  for (let attempt = 0; ; attempt++) {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = AbortSignal.any([options.signal, timeout]);
    try {
      return await agent.propose(request, signal);
    } catch (error) {
      if (options.signal.aborted) throw new AgentError('failed', 'stopped by the user', { cause: error });
      if (timeout.aborted) throw new AgentError('timeout', `the agent did not finish within ${Math.round(options.timeoutMs / 1000)}s`, { cause: error });
      const agentError = error instanceof AgentError ? error : new AgentError('failed', `agent failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      const delay = delays[attempt];
      if (agentError.kind !== 'transient' || delay === undefined) throw agentError;
      options.onRetry?.(attempt + 1, agentError, delay);
      try {
        await sleep(delay, undefined, { signal: options.signal });
      } catch {
        throw new AgentError('failed', 'stopped by the user', { cause: error });
      }
    }
  }
}
