/**
 * `agent.type: tuner`: an offline agent that tunes the numeric constants marked with `@tune` in
 * the editable files. No LLM, no network: the same seed, history and proposals in flight give
 * the same proposal.
 */
import { writeNamedFile } from '../../store/trial-artifacts.js';
import { join } from 'node:path';
import { AgentError } from '../../errors.js';
import type { AgentBackend, Proposal, ProposalRequest } from '../types.js';
import { applyChanges } from './apply.js';
import { formatDescription } from './description.js';
import { createRng, hashSeed } from './rng.js';
import { createInFlightMemory } from './in-flight.js';
import { scanWorkspace } from './scan.js';
import { proposeTuning, TuningMemo } from './search.js';

export const NO_MARKERS_MESSAGE = 'no @tune markers found in the editable files (e.g. "const X = 8; // @tune 2..64 int log")';

export function createTunerBackend(): AgentBackend {
  const memory = createInFlightMemory();
  const tuningMemo = new TuningMemo();
  return {
    name: 'tuner',
    // It works from the history and the @tune markers alone.
    ignoresPrompt: true,
    async propose(request: ProposalRequest, signal: AbortSignal): Promise<Proposal> {
      throwIfCanceled(signal);
      const { root, policy } = request.workspace;
      // Each proposal reads its own workspace, concurrently with the others; only the choice
      // waits its turn (its failure is thrown there, in order).
      const scanning = Promise.resolve().then(() => scanWorkspace(root, policy));
      scanning.catch(() => undefined);
      const { params, proposal } = await memory.takeTurn(async () => {
        const { params, problems } = await scanning;
        if (problems.length > 0) {
          throw new AgentError('fatal', problems[0]!, { hints: problems.slice(1) });
        }
        if (params.length === 0) throw new AgentError('fatal', NO_MARKERS_MESSAGE);
        const { seed, max_changes: maxChanges } = request.agentConfig.tuner;
        const pending = memory.pendingChanges(request.history, request.inFlight ?? [], request.trial);
        // Seeded by trial number, not by a running generator, so a resumed run proposes exactly
        // what an uninterrupted one would have.
        const rng = createRng(hashSeed(seed, request.trial));
        const proposal = proposeTuning(params, request.history, rng, { maxChanges, seed, pending, direction: request.objective.direction, memo: tuningMemo });
        if (proposal.changes.length > 0) memory.remember(request.trial, formatDescription(proposal.changes));
        return { params, proposal };
      });
      try {
        const transcriptPath = join(request.artifactDir, 'tuner.md');
        const summary = params.map((p) => `- ${p.name} = ${p.literal} (${p.file}:${p.line}, ${describeRange(p)})`);
        writeNamedFile(transcriptPath, [`# tuner, trial ${request.trial}`, '', ...summary, '', ...proposal.notes, ''].join('\n'));
        if (proposal.changes.length === 0) {
          throw new AgentError('failed', 'the tuner has tried every combination near the best values; widen the @tune ranges or stop the run');
        }
        throwIfCanceled(signal);
        const writtenFiles = applyChanges(root, params, proposal.changes);
        return {
          description: formatDescription(proposal.changes),
          usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 },
          transcriptPath,
          writtenFiles,
        };
      } catch (error) {
        // Nothing was proposed: its point is free again.
        memory.forget(request.trial);
        throw error;
      }
    },
  };
}

function describeRange(p: { low: number; high: number; int: boolean; log: boolean }): string {
  return [`${p.low}..${p.high}`, p.int ? 'int' : '', p.log ? 'log' : 'linear'].filter((w) => w !== '').join(' ');
}

function throwIfCanceled(signal: AbortSignal): void {
  if (signal.aborted) throw new AgentError('failed', 'canceled');
}
