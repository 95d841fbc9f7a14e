/**
 * `agent.type: command`: any shell command as the agent (`claude -p`, `codex exec`, a script),
 * run in the agent workspace with the prompt on stdin. What it edits is read from git afterwards;
 * the last line it prints is its description.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { AgentError } from '../errors.js';
import { writeChangedFile, writeNamedFile } from '../store/trial-artifacts.js';
import { formatSeconds, runCommand } from '../runner/execute.js';
import { runSandboxedCommand } from '../runner/sandboxed-experiment.js';
import type { RunResult, RunSpec } from '../runner/types.js';
import { wrapAgentCommand, type AgentSandbox } from '../sandbox/run-sandbox.js';
import type { AgentBackend, Proposal, ProposalRequest } from './types.js';

export interface CommandBackendOptions {
  /** The agent's environment; default: crucible's own, API keys included (the agent needs them). */
  env?: NodeJS.ProcessEnv;
  /** Between SIGTERM and SIGKILL at the time limit; default 5000. */
  killGraceMs?: number;
  /** Runs the command under bubblewrap: only its workspace and git folder writable, the project's repository absent. */
  sandbox?: AgentSandbox | null;
}

export function createCommandBackend(options: CommandBackendOptions = {}): AgentBackend {
  return {
    name: 'command',
    async propose(request: ProposalRequest, signal: AbortSignal): Promise<Proposal> {
      const command = request.agentConfig.command;
      if (command === null) {
        throw new AgentError('fatal', 'agent.type "command" needs agent.command, e.g. agent.command: "claude -p"');
      }
      const transcriptPath = join(request.artifactDir, 'agent.log');
      // The loop has written the trial's prompt.md already: not written twice.
      writeChangedFile(join(request.artifactDir, 'prompt.md'), request.prompt);
      writeNamedFile(join(request.artifactDir, 'system-prompt.md'), request.systemPrompt);
      const gitFolder = request.workspace.agentGitDir ?? join(request.artifactDir, 'agent-git');
      const gitDir = await agentGitDir(gitFolder);
      const timeoutMs = request.agentConfig.timeout_seconds * 1000;
      // Under the sandbox the agent reads its prompt from its lane's own folder beside its git
      // folder, the same path every turn, shown read-only: its sandbox can then be kept for the
      // next turn (decisions 73). The trial's copies above are the record.
      const promptDir = options.sandbox ? join(dirname(gitFolder), 'agent-turn') : request.artifactDir;
      const promptPath = join(promptDir, 'prompt.md');
      const systemPromptPath = join(promptDir, 'system-prompt.md');
      if (options.sandbox) {
        writeChangedFile(promptPath, request.prompt);
        writeChangedFile(systemPromptPath, request.systemPrompt);
      }
      const sandbox = options.sandbox ? wrapAgentCommand(options.sandbox, { workspace: request.workspace.root, gitDir: dirname(gitDir), readable: [promptDir] }) : undefined;
      const spec: RunSpec = {
        command,
        // The prompt on stdin as an open file: one shell, not a second one to redirect it.
        stdinPath: promptPath,
        cwd: request.workspace.root,
        // The one place crucible hands its environment, keys and all, to a child on purpose.
        env: {
          ...(options.env ?? process.env),
          CRUCIBLE_PROMPT_FILE: promptPath,
          CRUCIBLE_SYSTEM_PROMPT_FILE: systemPromptPath,
          CRUCIBLE_WORKSPACE: request.workspace.root,
          CRUCIBLE_TRIAL: String(request.trial),
          // git in the workspace would reach the project's history, hidden files included: the
          // agent's git gets a repository of its own, empty, over the same files.
          GIT_DIR: gitDir,
          GIT_WORK_TREE: request.workspace.root,
        },
        timeoutMs,
        logPath: transcriptPath,
        ...(options.killGraceMs === undefined ? {} : { killGraceMs: options.killGraceMs }),
      };
      // In a sandbox kept from turn to turn where this machine allows it, else as any command.
      const result = sandbox ? ((await runSandboxedCommand({ ...spec, sandbox }, signal)) ?? (await runCommand({ ...spec, sandbox }, signal))) : await runCommand(spec, signal);
      throwOnFailure(result, command, timeoutMs, sandbox !== undefined);
      return { description: lastLine(result.stdout), transcriptPath };
    },
  };
}

/**
 * An empty repository for the agent's own git commands, made once per run in crucible's private
 * folder beside the workspace: neither it nor its path leads to the project.
 */
async function agentGitDir(folder: string): Promise<string> {
  const gitDir = join(folder, '.git');
  if (existsSync(gitDir)) return gitDir;
  const env = { ...process.env };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_INDEX_FILE']) delete env[name];
  await promisify(execFile)('git', ['init', '-q', '--', folder], { env });
  return gitDir;
}

// Agent tools that keep their login or sessions in the home folder fail there under the sandbox.
const sandboxHint = 'The sandbox leaves the agent only its workspace writable: list what the agent command must write (e.g. "~/.claude") in sandbox.agent_writable.';

function throwOnFailure(result: RunResult, command: string, timeoutMs: number, sandboxed: boolean): void {
  if (result.canceled) throw new AgentError('failed', 'canceled');
  if (result.timedOut) throw new AgentError('timeout', `agent command timed out after ${formatSeconds(timeoutMs)}`);
  if (result.exitCode === 0) return;
  const lastError = lastLine(result.stderr);
  if (result.exitCode === 127 || (result.exitCode !== null && /command not found/i.test(lastError))) {
    throw new AgentError('fatal', `agent command not found: ${command}`, lastError === '' ? undefined : { hints: [lastError] });
  }
  if (result.exitCode === null) {
    // Never started (shortMessage says why), or ended by a signal nobody here sent.
    if (result.signal === null) throw new AgentError('fatal', `agent command ${result.shortMessage}`);
    throw new AgentError('failed', `agent command was ${result.shortMessage}`);
  }
  const detail = lastError !== '' ? lastError : lastLine(result.stdout);
  const readOnly = sandboxed && /EROFS|read-only file system/i.test(`${result.stderr}\n${result.stdout}`);
  throw new AgentError('failed', `agent command exited with code ${result.exitCode}${detail === '' ? '' : `: ${detail}`}`, readOnly ? { hints: [sandboxHint] } : undefined);
}

/** The last non-empty line, trimmed; "" when there is none. */
function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  return lines.filter((line) => line !== '').pop() ?? '';
}
