import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import type { ProposalRequest } from '../../src/agents/types.js';
import { agentTypesAvailable, createAgentBackend } from '../../src/agents/registry.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { agentConfigWith } from '../helpers/agent-config.js';
import { isPidAlive, isSinglePid, killStrays } from '../helpers/processes.js';

const dirs: string[] = [];
const strays: number[] = [];
afterEach(() => {
  killStrays(strays.splice(0));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function waitUntilDead(pid: number, ms = 2000): Promise<boolean> {
  // A pid file read before it was written parses as 0: that is no proof of anything.
  expect(isSinglePid(pid), `pid ${pid}`).toBe(true);
  const deadline = Date.now() + ms;
  while (isPidAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return !isPidAlive(pid);
}

function setup(command: string | null, timeoutSeconds = 20) {
  const base = mkdtempSync(path.join(tmpdir(), 'crucible-command-agent-'));
  dirs.push(base);
  const root = path.join(base, 'workspace');
  const artifactDir = path.join(base, 'trial-3');
  mkdirSync(root);
  mkdirSync(artifactDir);
  writeFileSync(path.join(root, 'solution.py'), 'x = 1\n');
  const agentConfig: Config['agent'] = agentConfigWith({ type: 'command', timeout_seconds: timeoutSeconds, command });
  const request: ProposalRequest = {
    trial: 3,
    prompt: `Make it faster.\nIt's "quoted", costs $HOME and \`backticks\`; don't run $(rm -rf x).\n`,
    systemPrompt: 'You are a careful engineer.',
    workspace: { root, policy: createAccessPolicy({ editable: ['solution.py'], readonly: [], hidden: [] }) },
    history: [],
    objective: { name: 'loss', direction: 'minimize' },
    agentConfig,
    artifactDir,
  };
  return { base, root, artifactDir, request };
}

const node = (script: string) => `'${process.execPath}' '${script}'`;

const FAKE_AGENT = `
import { readFileSync, writeFileSync } from 'node:fs';
const stdin = readFileSync(0, 'utf8');
const env = process.env;
writeFileSync('solution.py', 'x = 2\\n');
writeFileSync(env.SEEN, JSON.stringify({
  stdin,
  fromFile: readFileSync(env.CRUCIBLE_PROMPT_FILE, 'utf8'),
  system: readFileSync(env.CRUCIBLE_SYSTEM_PROMPT_FILE, 'utf8'),
  cwd: process.cwd(),
  workspace: env.CRUCIBLE_WORKSPACE,
  trial: env.CRUCIBLE_TRIAL,
  key: env.FAKE_API_KEY,
}));
console.error('thinking about it');
console.log('I looked at solution.py');
console.log('  set x to 2  \\n\\n');
`;

describe('command agent backend', () => {
  it('runs the command in the workspace with the prompt on stdin and in a file', async () => {
    const { base, root, artifactDir, request } = setup(null);
    const script = path.join(base, 'fake-agent.mjs');
    writeFileSync(script, FAKE_AGENT);
    const seen = path.join(base, 'seen.json');
    request.agentConfig = { ...request.agentConfig, command: node(script) };
    const backend = createAgentBackend('command', { env: { ...process.env, SEEN: seen, FAKE_API_KEY: 'sk-test-123' } });
    expect(backend.name).toBe('command');

    const proposal = await backend.propose(request, new AbortController().signal);
    expect(proposal.description).toBe('set x to 2');
    expect(readFileSync(path.join(root, 'solution.py'), 'utf8')).toBe('x = 2\n');
    const got = JSON.parse(readFileSync(seen, 'utf8')) as Record<string, string>;
    expect(got['stdin']).toBe(request.prompt);
    expect(got['fromFile']).toBe(request.prompt);
    expect(got['system']).toBe('You are a careful engineer.');
    expect(realpathSync(got['cwd']!)).toBe(realpathSync(root));
    expect(got['workspace']).toBe(root);
    expect(got['trial']).toBe('3');
    expect(got['key']).toBe('sk-test-123');
    expect(readFileSync(path.join(artifactDir, 'prompt.md'), 'utf8')).toBe(request.prompt);
    expect(proposal.transcriptPath).toBe(path.join(artifactDir, 'agent.log'));
    const transcript = readFileSync(proposal.transcriptPath!, 'utf8');
    expect(transcript).toContain('thinking about it');
    expect(transcript).toContain('I looked at solution.py');
  });

  it('gives an empty description when the agent prints nothing', async () => {
    const { request } = setup('true');
    await expect(createAgentBackend('command').propose(request, new AbortController().signal)).resolves.toMatchObject({ description: '' });
  });

  it('stops the run when the command does not exist', async () => {
    const { request } = setup('crucible-no-such-agent-cli --print');
    await expect(createAgentBackend('command').propose(request, new AbortController().signal)).rejects.toMatchObject({
      name: 'AgentError',
      kind: 'fatal',
      message: 'agent command not found: crucible-no-such-agent-cli --print',
    });
  });

  it('reports a failed command with its exit code and last error line', async () => {
    const { request } = setup('echo partial work; echo "warming up" >&2; echo "error: quota exceeded" >&2; exit 3');
    await expect(createAgentBackend('command').propose(request, new AbortController().signal)).rejects.toMatchObject({
      kind: 'failed',
      message: 'agent command exited with code 3: error: quota exceeded',
    });
  });

  it('kills the whole agent at its time limit', async () => {
    const { base, request } = setup(null, 0.5);
    const pidFile = path.join(base, 'sleep.pid');
    request.agentConfig = { ...request.agentConfig, command: `sleep 30 & echo $! > '${pidFile}'; wait` };
    const started = Date.now();
    await expect(createAgentBackend('command', { killGraceMs: 200 }).propose(request, new AbortController().signal)).rejects.toMatchObject({
      kind: 'timeout',
      message: 'agent command timed out after 0.5s',
    });
    expect(Date.now() - started).toBeLessThan(5000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    strays.push(pid);
    expect(await waitUntilDead(pid)).toBe(true);
  });

  it('stops promptly when canceled', async () => {
    const { base, request } = setup(null);
    const pidFile = path.join(base, 'sleep.pid');
    request.agentConfig = { ...request.agentConfig, command: `sleep 30 & echo $! > '${pidFile}'; wait` };
    const controller = new AbortController();
    const proposal = createAgentBackend('command', { killGraceMs: 200 }).propose(request, controller.signal);
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await expect(proposal).rejects.toMatchObject({ kind: 'failed', message: 'canceled' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    strays.push(pid);
    expect(await waitUntilDead(pid)).toBe(true);
  });

  it('gives the agent a git repository of its own in the folder the workspace names, kept from one trial to the next', async () => {
    const { base, root, request } = setup(null);
    const own = path.join(base, 'private', 'agent-git');
    request.workspace = { ...request.workspace, agentGitDir: own };
    const out = path.join(base, 'git.txt');
    request.agentConfig = {
      ...request.agentConfig,
      command: `git rev-parse --absolute-git-dir --show-toplevel > '${out}' && git add -A && git -c user.name=a -c user.email=a@a commit -qm mine`,
    };
    const backend = createAgentBackend('command');
    await backend.propose(request, new AbortController().signal);
    expect(readFileSync(out, 'utf8').split('\n')).toEqual([path.join(own, '.git'), realpathSync(root), '']);
    request.agentConfig = { ...request.agentConfig, command: `git log --format=%s > '${out}'` };
    await backend.propose({ ...request, trial: 4 }, new AbortController().signal);
    expect(readFileSync(out, 'utf8')).toBe('mine\n');
  });

  it('needs agent.command', async () => {
    const { request } = setup(null);
    await expect(createAgentBackend('command').propose(request, new AbortController().signal)).rejects.toMatchObject({
      kind: 'fatal',
      message: 'agent.type "command" needs agent.command, e.g. agent.command: "claude -p"',
    });
  });
});

describe('agent registry', () => {
  it('builds every backend, loading the LLM ones only when first used', () => {
    expect([...agentTypesAvailable].sort()).toEqual(['api', 'claude-code', 'command', 'tuner']);
    expect(createAgentBackend('tuner').name).toBe('tuner');
    for (const type of ['claude-code', 'api'] as const) {
      const backend = createAgentBackend(type);
      expect(backend.name).toBe(type);
      expect(typeof backend.preflight).toBe('function');
    }
  });
});
