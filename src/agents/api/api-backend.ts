/**
 * `agent.type: api`: any chat model behind an HTTP API (Anthropic, OpenAI, or an OpenAI-compatible
 * server such as Ollama, vLLM, llama.cpp or OpenRouter) working on the agent workspace through
 * crucible's own file tools, in a loop of at most agent.max_steps model calls.
 */
import path from 'node:path';
import type { LanguageModelUsage, ModelMessage, SystemModelMessage } from 'ai';
import type { Config } from '../../config/schema.js';
import { classifyAgentError } from '../classify-error.js';
import { priceUsage } from '../pricing.js';
import type { AgentBackendOptions } from '../registry.js';
import type { AgentBackend, AgentUsage, Proposal, ProposalRequest } from '../types.js';
import { createFileTools } from './file-tools.js';
import { checkEndpoint } from './preflight.js';
import { createLanguageModel, credentialContext, resolveApiSettings, type ApiSettings } from './providers.js';
import { openTranscript } from './transcript.js';

/** Appended to the system prompt: the same every trial, so it stays in the provider's cache. */
const TOOLS_NOTE = `

## Tools

You work through the tools read_file, edit_file, write_file, glob and grep. Paths are relative to the
project folder. A refused tool call says why; adapt and go on. When your change is made, stop calling
tools and answer with one line (under 120 characters, no markdown) saying what you changed and why.`;

/** Anthropic's prompt cache: a breakpoint marks the end of a prefix that later requests reuse. */
const ANTHROPIC_CACHE = { anthropic: { cacheControl: { type: 'ephemeral' } } } as const;

/** Per model call; enough for a tool step or a final line, thinking included. */
const ANTHROPIC_MAX_OUTPUT_TOKENS = 16_000;

// The AI SDK prints its warnings to the console; crucible's core never prints. Steps' warnings
// go to the transcript instead. A host application that set its own logger keeps it.
(globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS ??= false;

export function createApiBackend(options: AgentBackendOptions = {}): AgentBackend {
  const env = options.env ?? process.env;
  return {
    name: 'api',
    async preflight(signal) {
      if (options.agentConfig === undefined) return;
      await checkEndpoint(resolveApiSettings(options.agentConfig, env), signal);
    },
    async propose(request, signal) {
      const settings = resolveApiSettings(request.agentConfig, env);
      return proposeWith(settings, request, signal);
    },
  };
}

async function proposeWith(settings: ApiSettings, request: ProposalRequest, signal: AbortSignal): Promise<Proposal> {
  const transcript = openTranscript(path.join(request.artifactDir, 'agent.log'), [
    `crucible api agent, trial ${request.trial}`,
    `model: ${settings.model} (${settings.provider}, ${settings.baseUrl})`,
    `workspace: ${request.workspace.root}`,
  ]);
  const maxSteps = request.agentConfig.max_steps;
  const cache = settings.provider === 'anthropic';
  try {
    // Imported here, not at the top: the SDK is large, and the CLI bundle leaves it outside.
    const { generateText, stepCountIs, tool } = await import('ai');
    const model = await createLanguageModel(settings);
    const system: SystemModelMessage = { role: 'system', content: request.systemPrompt + TOOLS_NOTE, ...(cache ? { providerOptions: ANTHROPIC_CACHE } : {}) };
    // The prompt puts what never changes first, so the prompt cache holds for the whole trial.
    const user: ModelMessage = { role: 'user', content: request.prompt, ...(cache ? { providerOptions: ANTHROPIC_CACHE } : {}) };
    const result = await generateText({
      model,
      system,
      messages: [user],
      tools: createFileTools(request.workspace, tool),
      stopWhen: stepCountIs(maxSteps),
      // crucible's loop retries transient failures with its own backoff; the SDK must not as well.
      maxRetries: 0,
      abortSignal: signal,
      ...(cache ? { maxOutputTokens: ANTHROPIC_MAX_OUTPUT_TOKENS } : {}),
      // Each step also caches the conversation so far, so the next step pays for its new part only.
      ...(cache ? { prepareStep: ({ messages }: { messages: ModelMessage[] }) => ({ messages: withCacheBreakpoint(messages) }) } : {}),
      onStepFinish: (step) => {
        transcript.step(step);
        for (const warning of step.warnings ?? []) transcript.note(`SDK warning: ${JSON.stringify(warning)}`);
      },
    });
    const usage = usageOf(result.totalUsage, settings.model, request.agentConfig.pricing);
    const description = [...result.steps].reverse().find((step) => step.text.trim() !== '')?.text.trim() ?? '';
    const last = result.steps.at(-1);
    transcript.end({ steps: result.steps.length, description, usage, stoppedAtMaxSteps: result.steps.length >= maxSteps && last?.finishReason === 'tool-calls' });
    return { description, usage, transcriptPath: transcript.path };
  } catch (error) {
    const agentError = classifyAgentError(error, { ...credentialContext(settings), endpoint: settings.baseUrl });
    transcript.fail(agentError.message);
    throw agentError;
  }
}

/** The messages with a cache breakpoint on the last one (at most 4 are allowed: tools and system, prompt, this). */
function withCacheBreakpoint(messages: ModelMessage[]): ModelMessage[] {
  const last = messages.at(-1);
  if (last === undefined || last.role === 'system') return messages;
  return [...messages.slice(0, -1), { ...last, providerOptions: { ...last.providerOptions, ...ANTHROPIC_CACHE } }];
}

/** The trial's totals in crucible's terms: uncached input, cache reads and writes apart, and the price. */
/** Token counts of an AI SDK result, uncached input apart from cache reads and writes, priced. */
export function usageOf(total: LanguageModelUsage, model: string, pricing: Config['agent']['pricing']): AgentUsage {
  const cacheReadTokens = total.inputTokenDetails?.cacheReadTokens ?? total.cachedInputTokens ?? 0;
  const cacheWriteTokens = total.inputTokenDetails?.cacheWriteTokens ?? 0;
  const inputTokens = total.inputTokenDetails?.noCacheTokens ?? Math.max(0, (total.inputTokens ?? 0) - cacheReadTokens - cacheWriteTokens);
  const counts = { inputTokens, outputTokens: total.outputTokens ?? 0, cacheReadTokens, cacheWriteTokens };
  return { ...counts, costUsd: priceUsage(model, counts, pricing) };
}
