/**
 * One model call without tools: a system prompt and a user message in, text out. For the
 * commands that ask a model to write rather than edit (`postmortem --ai`, `wizard`). The same
 * backends, settings and error meanings as the agents: `api` through the AI SDK, `claude-code`
 * through the Claude Agent SDK with no tools and a single turn.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import type { AgentType, Config } from '../config/schema.js';
import { AgentError } from '../errors.js';
import { createLanguageModel, credentialContext as apiCredentialContext, resolveApiSettings } from './api/providers.js';
import { buildSessionEnv, CREDENTIALS_HINT, findCredentials, type CredentialSource } from './claude-code/environment.js';
import { loadAgentSdk } from './claude-code/load-sdk.js';
import { classifyClaudeError, credentialContext as claudeCredentialContext, errorOfResult, usageOfResult } from './claude-code/session-result.js';
import { usageOf } from './api/api-backend.js';
import { classifyAgentError } from './classify-error.js';
import type { AgentUsage } from './types.js';

export type TextModelType = 'api' | 'claude-code';

export interface TextCompletion {
  text: string;
  usage: AgentUsage;
  /** The model that answered, as far as the backend says (else the configured one). */
  model: string;
}

export interface CompleteOptions {
  /** Room for a long answer (a generated project); only Anthropic's API needs it said. */
  maxOutputTokens?: number;
}

export interface TextModel {
  readonly type: TextModelType;
  /** The configured model, for messages before the call ("claude-code default" when none is set). */
  readonly label: string;
  /** Rejects with AgentError: 'fatal' for credentials, 'transient' for overloads, 'failed' otherwise. */
  complete(system: string, user: string, signal: AbortSignal, options?: CompleteOptions): Promise<TextCompletion>;
}

export interface TextModelOptions {
  /** Retries of a rate limit or an overload inside the AI SDK (default 2: no loop retries for these commands). */
  maxRetries?: number;
  /** The Agent SDK's module name; a test names one that is not installed. */
  sdkSpecifier?: string;
}

/**
 * Which backend writes text: `--agent` when given, else the project's agent.type when it is an
 * LLM, else claude-code (the tuner and command agents cannot write prose).
 */
export function chooseTextModelType(flag: TextModelType | undefined, configured: AgentType | undefined): TextModelType {
  if (flag !== undefined) return flag;
  return configured === 'api' ? 'api' : 'claude-code';
}

/**
 * A text model for `agentConfig` (its model, provider, endpoint and key variable). Missing
 * credentials throw AgentError('fatal') here, before anything is asked or written.
 */
export function createTextModel(type: TextModelType, agentConfig: Config['agent'], env: NodeJS.ProcessEnv, options: TextModelOptions = {}): TextModel {
  return type === 'api' ? createApiTextModel(agentConfig, env, options) : createClaudeTextModel(agentConfig, env, options);
}

// The AI SDK prints its warnings to the console; crucible's core never prints.
(globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS ??= false;

function createApiTextModel(agentConfig: Config['agent'], env: NodeJS.ProcessEnv, options: TextModelOptions): TextModel {
  const settings = resolveApiSettings(agentConfig, env);
  return {
    type: 'api',
    label: settings.model,
    async complete(system, user, signal, callOptions = {}) {
      try {
        const { generateText } = await import('ai');
        const result = await generateText({
          model: await createLanguageModel(settings),
          system,
          prompt: user,
          maxRetries: options.maxRetries ?? 2,
          abortSignal: signal,
          ...(settings.provider === 'anthropic' && callOptions.maxOutputTokens !== undefined ? { maxOutputTokens: callOptions.maxOutputTokens } : {}),
        });
        return { text: result.text, usage: usageOf(result.totalUsage, settings.model, agentConfig.pricing), model: result.response.modelId || settings.model };
      } catch (error) {
        throw classifyAgentError(error, { ...apiCredentialContext(settings), endpoint: settings.baseUrl });
      }
    },
  };
}

function createClaudeTextModel(agentConfig: Config['agent'], env: NodeJS.ProcessEnv, options: TextModelOptions): TextModel {
  const credentials = findCredentials(env);
  if (credentials.kind === 'none') throw new AgentError('fatal', `agent.type claude-code has no credentials: ${CREDENTIALS_HINT}`);
  return {
    type: 'claude-code',
    label: agentConfig.model ?? 'claude-code default',
    async complete(system, user, signal) {
      const { query } = await loadAgentSdk(options.sdkSpecifier);
      const result = await runSession(query, { system, user, signal, credentials, env, model: agentConfig.model });
      const failure = errorOfResult(result, claudeCredentialContext(credentials, env));
      if (failure) throw failure;
      const text = result.subtype === 'success' ? result.result : '';
      const model = agentConfig.model ?? Object.keys(result.modelUsage ?? {})[0] ?? 'claude-code';
      return { text, usage: usageOfResult(result), model };
    },
  };
}

interface SessionRequest {
  system: string;
  user: string;
  signal: AbortSignal;
  credentials: CredentialSource;
  env: NodeJS.ProcessEnv;
  model: string | null;
}

/** One Claude Code session of one turn with no tools, in a folder of its own that goes with it. */
async function runSession(query: Awaited<ReturnType<typeof loadAgentSdk>>['query'], request: SessionRequest): Promise<SDKResultMessage> {
  const { signal, credentials, env } = request;
  const context = claudeCredentialContext(credentials, env);
  const sessionDir = await mkdtemp(path.join(env['TMPDIR'] || os.tmpdir(), 'crucible-claude-'));
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  if (signal.aborted) abort();
  let result: SDKResultMessage | undefined;
  let stderr = '';
  try {
    await mkdir(path.join(sessionDir, 'tmp'));
    const session = query({
      prompt: request.user,
      options: {
        cwd: sessionDir,
        ...(request.model ? { model: request.model } : {}),
        systemPrompt: request.system,
        tools: [],
        maxTurns: 1,
        permissionMode: 'default',
        settingSources: [],
        strictMcpConfig: true,
        persistSession: false,
        verbatimPrompts: true,
        env: buildSessionEnv(env, credentials, sessionDir),
        abortController: controller,
        stderr: (data) => (stderr = (stderr + data).slice(-2_000)),
      },
    });
    try {
      for await (const message of session) if (message.type === 'result') result = message;
    } catch (error) {
      // The SDK throws after yielding an error result; the result says more than the throw.
      if (signal.aborted) throw new AgentError('failed', 'canceled', { cause: error });
      if (!result) throw classifyClaudeError(error, context);
    } finally {
      session.close();
    }
  } finally {
    signal.removeEventListener('abort', abort);
    await rm(sessionDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }
  if (signal.aborted) throw new AgentError('failed', 'canceled');
  if (!result) throw new AgentError('failed', `Claude Code ended without a result${stderr.trim() ? `: ${stderr.trim().split('\n').pop() ?? ''}` : ''}`);
  return result;
}
