import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentBackend, AgentUsage, Proposal, ProposalRequest } from '../agents/types.js';
import { addUsage } from '../agents/usage.js';
import { AgentError, StorageError } from '../errors.js';
import { limitTimer } from '../runner/local-process.js';

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
  // Attempts that failed still cost tokens: they are added to what the trial reports.
  let spent: AgentUsage | undefined;
  const fail = (kind: AgentError['kind'], message: string, cause: unknown): AgentError =>
    new AgentError(kind, message, { cause, usage: addKnown(spent, cause instanceof AgentError ? cause.usage : undefined) });
  for (let attempt = 0; ; attempt++) {
    const attemptSignal = limitedSignal(options.signal, options.timeoutMs);
    try {
      const proposal = await agent.propose(request, attemptSignal.signal);
      const usage = addKnown(spent, proposal.usage);
      return usage ? { ...proposal, usage } : proposal;
    } catch (error) {
      // The disk refused one of crucible's own writes: not the agent's failure, the run stops (exit 74).
      if (error instanceof StorageError) throw error;
      if (options.signal.aborted) throw fail('failed', 'stopped by the user', error);
      if (attemptSignal.timedOut()) throw fail('timeout', `the agent did not finish within ${Math.round(options.timeoutMs / 1000)}s`, error);
      const agentError = error instanceof AgentError ? error : new AgentError('failed', `agent failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      const delay = delays[attempt];
      if (agentError.kind !== 'transient' || delay === undefined) {
        agentError.usage = addKnown(spent, agentError.usage);
        throw agentError;
      }
      spent = addKnown(spent, agentError.usage);
      options.onRetry?.(attempt + 1, agentError, delay);
      try {
        await sleep(delay, undefined, { signal: options.signal });
      } catch {
        throw fail('failed', 'stopped by the user', error);
      }
    } finally {
      attemptSignal.release();
    }
  }
}

/**
 * A signal that aborts with `parent` or, with a TimeoutError as AbortSignal.timeout's, after
 * `timeoutMs`; release() drops the timer and the listener. AbortSignal.timeout and
 * AbortSignal.any kept a timer, a weak reference and a registration on the run's signal alive
 * for the whole limit (ten minutes by default) after every attempt: thousands at a time over a
 * fast run, which its heap, and every fork of it, carried.
 */
function limitedSignal(parent: AbortSignal, timeoutMs: number): { signal: AbortSignal; timedOut(): boolean; release(): void } {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  if (parent.aborted) onAbort();
  // The limit is positive (the config's schema); limitTimer caps what setTimeout would fire at once.
  const timer = limitTimer(timeoutMs, () => {
    timedOut = true;
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  });
  timer?.unref();
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    release(): void {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

/** The sum of what is known: either side may be missing. */
function addKnown(a: AgentUsage | undefined, b: AgentUsage | undefined): AgentUsage | undefined {
  if (!a) return b;
  if (!b) return a;
  return addUsage(a, b);
}
