/**
 * `agent.type: claude-code`: Claude Code, through the Claude Agent SDK, edits the agent workspace
 * with five file tools and nothing else (no shell, no web, no subagents). Every tool call passes
 * the access policy twice, in a PreToolUse hook (which nothing can approve around) and in
 * canUseTool; the prompt is sent verbatim, so an "@path" in it never makes Claude Code attach a
 * file behind the policy's back. Each session gets a fresh configuration folder and only the
 * environment it needs (environment.ts), and ends, child process and all, when `signal` aborts.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CanUseTool, HookCallback, Options, SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import type { Config } from '../../config/schema.js';
import { AgentError } from '../../errors.js';
import type { AgentBackend, Proposal, ProposalRequest } from '../types.js';
import { buildSessionEnv, CREDENTIALS_HINT, findCredentials } from './environment.js';
import { loadAgentSdk, type AgentSdk } from './load-sdk.js';
import { checkClaudeCredentials } from './preflight.js';
import { classifyClaudeError, credentialContext, errorOfResult, usageOfResult } from './session-result.js';
import { CLAUDE_CODE_TOOLS, createToolGuard, type ToolGuard } from './tool-guard.js';

export interface ClaudeCodeBackendOptions {
  /** The user's environment, from which the session's is built (default: process.env). */
  env?: NodeJS.ProcessEnv;
  agentConfig?: Config['agent'];
  /** The SDK's module name; a test names one that is not installed. */
  sdkSpecifier?: string;
}

const TRANSCRIPT_FILE = 'transcript.jsonl';
/** Claude Code's last words on stderr, kept for the error of a session that ends without a result. */
const STDERR_TAIL_CHARS = 2_000;

export function createClaudeCodeBackend(options: ClaudeCodeBackendOptions = {}): AgentBackend {
  const env = options.env ?? process.env;
  let sdk: Promise<AgentSdk> | undefined;
  const getSdk = (): Promise<AgentSdk> => (sdk ??= loadAgentSdk(options.sdkSpecifier));

  return {
    name: 'claude-code',
    async preflight(signal) {
      await getSdk();
      await checkClaudeCredentials(env, signal);
    },
    async propose(request, signal) {
      const { query } = await getSdk();
      const credentials = findCredentials(env);
      if (credentials.kind === 'none') throw new AgentError('fatal', `agent.type claude-code has no credentials: ${CREDENTIALS_HINT}`);
      const context = credentialContext(credentials, env);
      const sessionDir = await mkdtemp(path.join(env['TMPDIR'] || os.tmpdir(), 'crucible-claude-'));
      await mkdir(path.join(sessionDir, 'tmp'));
      const transcriptPath = path.join(request.artifactDir, TRANSCRIPT_FILE);
      const transcript = createWriteStream(transcriptPath);
      // A transcript that cannot be written must not end the trial.
      transcript.on('error', () => undefined);
      const controller = new AbortController();
      const abort = (): void => controller.abort();
      signal.addEventListener('abort', abort, { once: true });
      if (signal.aborted) abort();

      let stderr = '';
      let result: SDKResultMessage | undefined;
      let lastText = '';
      try {
        const session = query({
          prompt: request.prompt,
          options: {
            ...sessionOptions(request, createToolGuard(request.workspace)),
            env: buildSessionEnv(env, credentials, sessionDir),
            abortController: controller,
            stderr: (data) => (stderr = (stderr + data).slice(-STDERR_TAIL_CHARS)),
          },
        });
        try {
          for await (const message of session) {
            transcript.write(`${JSON.stringify(message)}\n`);
            if (message.type === 'result') result = message;
            else if (message.type === 'assistant') lastText = textOf(message.message.content) || lastText;
          }
        } catch (error) {
          // The SDK throws after yielding an error result; the result says more than the throw.
          if (signal.aborted) throw new AgentError('failed', 'canceled', { cause: error });
          if (!result) throw classifyClaudeError(withStderr(error, stderr), context);
        } finally {
          session.close();
        }
      } finally {
        signal.removeEventListener('abort', abort);
        await closeStream(transcript);
        await rm(sessionDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      }
      if (signal.aborted) throw new AgentError('failed', 'canceled');
      if (!result) throw new AgentError('failed', `Claude Code ended without a result${stderr.trim() ? `: ${lastLine(stderr)}` : ''}`);
      const failure = errorOfResult(result, context);
      if (failure) {
        // The turn failed, but its tokens were spent: the loop counts them toward the budgets.
        failure.usage = usageOfResult(result);
        throw failure;
      }
      const proposal: Proposal = { description: (result.subtype === 'success' ? result.result : '') || lastText, usage: usageOfResult(result), transcriptPath };
      return proposal;
    },
  };
}

/** What every session shares: the tools, the guard, and nothing of the user's own Claude Code setup. */
function sessionOptions(request: ProposalRequest, guard: ToolGuard): Options {
  const preToolUse: HookCallback = (input) => {
    if (input.hook_event_name !== 'PreToolUse') return Promise.resolve({});
    const verdict = safeCheck(guard, input.tool_name, input.tool_input);
    if (verdict.allow) return Promise.resolve({});
    return Promise.resolve({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: verdict.message } });
  };
  const canUseTool: CanUseTool = (toolName, input) => {
    const verdict = safeCheck(guard, toolName, input);
    return Promise.resolve(verdict.allow ? { behavior: 'allow', updatedInput: input } : { behavior: 'deny', message: verdict.message });
  };
  return {
    cwd: request.workspace.root,
    ...(request.agentConfig.model ? { model: request.agentConfig.model } : {}),
    systemPrompt: request.systemPrompt,
    // agent.max_steps bounds the model calls of one trial, as for the api backend.
    maxTurns: request.agentConfig.max_steps,
    // `tools` is what the model sees; allowedTools would only pre-approve, and skip canUseTool.
    tools: CLAUDE_CODE_TOOLS,
    hooks: { PreToolUse: [{ hooks: [preToolUse], onFailure: 'block' }] },
    canUseTool,
    // Not bypassPermissions: it approves everything, and refuses to run as root (CI).
    permissionMode: 'default',
    settingSources: [],
    strictMcpConfig: true,
    persistSession: false,
    verbatimPrompts: true,
  };
}

/** The guard's verdict; a bug in it denies the call rather than letting it through. */
function safeCheck(guard: ToolGuard, toolName: string, input: unknown): ReturnType<ToolGuard> {
  try {
    return guard(toolName, typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {});
  } catch (error) {
    return { allow: false, message: `crucible could not check this call (${error instanceof Error ? error.message : String(error)}): try another path` };
  }
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .filter((block): block is { type: 'text'; text: string } => (block as { type?: unknown }).type === 'text' && typeof (block as { text?: unknown }).text === 'string')
    .map((block) => block.text)
    .join('\n')
    .trim();
}

function withStderr(error: unknown, stderr: string): unknown {
  const last = lastLine(stderr);
  if (last === '' || !(error instanceof Error) || error.message.includes(last)) return error;
  return Object.assign(new Error(`${error.message} (${last})`, { cause: error }), { code: (error as { code?: unknown }).code });
}

function lastLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .pop() ?? ''
  );
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.end(() => resolve());
  });
}
