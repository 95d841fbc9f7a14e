import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiBackend } from '../../src/agents/api/api-backend.js';
import type { ProposalRequest } from '../../src/agents/types.js';
import type { Config } from '../../src/config/schema.js';
import { AgentError } from '../../src/errors.js';
import { propose } from '../../src/loop/propose.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { agentConfigWith } from '../helpers/agent-config.js';
import { startFakeOpenAI, type FakeOpenAIServer, type FakeStep } from '../fixtures/fake-llm/openai-server.js';

/**
 * One proposal of the `api` backend against a fake OpenAI-compatible server: the real AI SDK
 * client, real files, the access policy in every tool, usage, transcript, and what each HTTP
 * failure means to the loop.
 */

const SECRET = 'SECRET-HARNESS-7731';
const dirs: string[] = [];
const servers: FakeOpenAIServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function fake(script: readonly FakeStep[] = [], options?: { modelsRoute?: boolean }): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAI(script, options);
  servers.push(server);
  return server;
}

function setup(server: FakeOpenAIServer | { url: string }, agent: Partial<Config['agent']> = {}) {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'crucible-api-agent-')));
  dirs.push(base);
  const root = path.join(base, 'workspace');
  const artifactDir = path.join(base, 'trial-1');
  mkdirSync(root);
  mkdirSync(artifactDir);
  writeFileSync(path.join(root, 'solution.js'), 'export const X = 1;\n');
  writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  // Hidden files are absent from real workspaces; this one is here to prove the tools refuse it anyway.
  writeFileSync(path.join(root, 'evaluate.js'), `// ${SECRET}\nconsole.log("score: 1");\n`);
  writeFileSync(path.join(base, 'outside.txt'), `outside ${SECRET}\n`);
  const agentConfig = agentConfigWith({ type: 'api', provider: 'openai-compatible', model: 'qwen3:8b', base_url: server.url, timeout_seconds: 10, ...agent });
  const request: ProposalRequest = {
    trial: 1,
    prompt: 'Make the score better by changing X in solution.js.',
    systemPrompt: 'You are an optimisation agent.',
    workspace: { root, policy: createAccessPolicy({ editable: ['solution.js'], readonly: ['package.json'], hidden: ['evaluate.js'] }) },
    history: [],
    objective: { name: 'score', direction: 'maximize' },
    agentConfig,
    artifactDir,
  };
  return { base, root, artifactDir, request, backend: createApiBackend({ env: {}, agentConfig }) };
}

const call = (name: string, args: Record<string, unknown>) => ({ name, args });

/** The tool results the model was sent, from the last request the server got. */
function toolResults(server: FakeOpenAIServer): string[] {
  const last = server.chatRequests().at(-1);
  return (last?.messages ?? []).filter((m) => m.role === 'tool').map((m) => String(m.content));
}

describe('api backend: a proposal', () => {
  it('reads, edits and describes its change; usage adds up over the steps; the transcript shows it all', async () => {
    const server = await fake([
      { toolCalls: [call('read_file', { path: 'solution.js' })], usage: { prompt_tokens: 500, completion_tokens: 30, cached_tokens: 0 } },
      { toolCalls: [call('edit_file', { path: 'solution.js', old_string: 'X = 1', new_string: 'X = 42' })], usage: { prompt_tokens: 600, completion_tokens: 40, cached_tokens: 400 } },
      { text: 'Thinking about it.\nSet X to 42 to raise the score', usage: { prompt_tokens: 700, completion_tokens: 10, cached_tokens: 500 } },
    ]);
    const { root, request, backend } = setup(server);

    const proposal = await backend.propose(request, new AbortController().signal);

    expect(readFileSync(path.join(root, 'solution.js'), 'utf8')).toBe('export const X = 42;\n');
    expect(proposal.description).toContain('Set X to 42 to raise the score');
    // OpenAI counts cached tokens inside prompt_tokens; crucible keeps them apart.
    expect(proposal.usage).toEqual({ inputTokens: 1800 - 900, outputTokens: 80, cacheReadTokens: 900, cacheWriteTokens: 0, costUsd: null });
    const requests = server.chatRequests();
    expect(requests).toHaveLength(3);
    const first = requests[0]!;
    expect(first.messages?.[0]).toMatchObject({ role: 'system' });
    expect(String(first.messages?.[0]?.content)).toContain('You are an optimisation agent.');
    expect(first.messages?.[1]).toMatchObject({ role: 'user', content: 'Make the score better by changing X in solution.js.' });
    expect(first.tools?.map((t) => t.function.name).sort()).toEqual(['edit_file', 'glob', 'grep', 'read_file', 'write_file']);
    expect(toolResults(server).join('\n')).toContain('export const X = 1;');

    const log = readFileSync(proposal.transcriptPath!, 'utf8');
    expect(proposal.transcriptPath).toBe(path.join(request.artifactDir, 'agent.log'));
    expect(log).toContain('> read_file {"path":"solution.js"}');
    expect(log).toContain('edited solution.js: replaced one occurrence');
    expect(log).toContain('done after 3 steps');
  });

  it('refuses hidden, protected, read-only and outside paths with messages the model can act on, and never sends hidden content', async () => {
    const server = await fake([
      {
        toolCalls: [
          call('read_file', { path: 'evaluate.js' }),
          call('read_file', { path: './sub/../evaluate.js' }),
          call('grep', { pattern: 'SECRET' }),
          call('glob', { pattern: '**/*' }),
        ],
      },
      {
        toolCalls: [
          call('write_file', { path: 'package.json', content: '{}' }),
          call('edit_file', { path: 'evaluate.js', old_string: 'score', new_string: 'SCORE' }),
          call('write_file', { path: '.crucible/config.yaml', content: 'x' }),
          call('read_file', { path: '../outside.txt' }),
          call('read_file', { path: 'escape.txt' }),
          call('write_file', { path: 'notes.md', content: 'x' }),
        ],
      },
      { text: 'Nothing I may change.' },
    ]);
    const { root, base, request, backend } = setup(server);
    symlinkSync(path.join(base, 'outside.txt'), path.join(root, 'escape.txt'));

    const proposal = await backend.propose(request, new AbortController().signal);

    expect(proposal.description).toBe('Nothing I may change.');
    const [readHidden, readHiddenDots, grep, glob] = server.chatRequests()[1]!.messages!.filter((m) => m.role === 'tool').map((m) => String(m.content));
    expect(readHidden).toContain('evaluate.js is hidden: you cannot read or change it');
    expect(readHiddenDots).toContain('evaluate.js is hidden');
    expect(grep).toContain('no matches for SECRET');
    expect(glob).toContain('solution.js');
    expect(glob).not.toContain('evaluate.js');
    expect(glob).not.toContain('escape.txt');
    const denials = toolResults(server);
    expect(denials[4]).toContain('package.json is read-only (editable files: solution.js)');
    expect(denials[5]).toContain('evaluate.js is hidden: you cannot read or change it');
    expect(denials[6]).toContain('.crucible/config.yaml belongs to crucible');
    expect(denials[7]).toContain('is outside the workspace');
    expect(denials[8]).toContain('escape.txt leads outside the workspace');
    expect(denials[9]).toContain('notes.md is read-only (editable files: solution.js)');
    for (const r of server.requests) expect(r.body).not.toContain(SECRET);
    expect(readFileSync(path.join(request.artifactDir, 'agent.log'), 'utf8')).not.toContain(SECRET);
    expect(readFileSync(path.join(root, 'package.json'), 'utf8')).toBe('{ "type": "module" }\n');
  });

  it('stops after agent.max_steps model calls', async () => {
    const server = await fake(Array.from({ length: 10 }, () => ({ toolCalls: [call('glob', { pattern: '*.js' })] })));
    const { request, backend } = setup(server, { max_steps: 3 });
    const proposal = await backend.propose(request, new AbortController().signal);
    expect(server.chatRequests()).toHaveLength(3);
    expect(proposal.description).toBe('');
    expect(readFileSync(proposal.transcriptPath!, 'utf8')).toContain('agent.max_steps reached');
  });

  it('prices the tokens from agent.pricing when the model has no built-in price', async () => {
    const server = await fake([{ text: 'done', usage: { prompt_tokens: 1_000_000, completion_tokens: 500_000, cached_tokens: 200_000 } }]);
    const { request, backend } = setup(server, { pricing: { 'qwen3:8b': { input: 1, output: 2, cache_read: 0.5 } } });
    const proposal = await backend.propose(request, new AbortController().signal);
    expect(proposal.usage?.costUsd).toBeCloseTo(0.8 + 1 + 0.1, 6);
  });
});

describe('api backend: failures', () => {
  it('retries 429, 529 and 500 through the loop (the SDK itself does not retry), then succeeds', async () => {
    for (const status of [429, 529, 500]) {
      const server = await fake([{ text: 'fine now' }]);
      server.failWith(status, 2);
      const { request, backend } = setup(server);
      const retries: string[] = [];
      const proposal = await propose(backend, request, {
        timeoutMs: 10_000,
        signal: new AbortController().signal,
        retryDelaysMs: [10, 10, 10],
        onRetry: (_attempt, error) => retries.push(`${error.kind}: ${error.message}`),
      });
      expect(proposal.description).toBe('fine now');
      expect(retries).toHaveLength(2);
      expect(retries[0]).toMatch(new RegExp(`^transient: the model API answered ${status}`));
      expect(server.chatRequests()).toHaveLength(3);
    }
  });

  it('a 401 is fatal at once and names the key variable; a 400 fails the trial', async () => {
    const server = await fake();
    server.failWith(401);
    const { request } = setup(server, { api_key_env: 'MY_KEY' });
    const keyed = createApiBackend({ env: { MY_KEY: 'sk-wrong' }, agentConfig: request.agentConfig });
    const error = await propose(keyed, request, { timeoutMs: 10_000, signal: new AbortController().signal, retryDelaysMs: [10] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).kind).toBe('fatal');
    expect((error as AgentError).message).toBe('agent.api_key_env: the key in MY_KEY was rejected (401 Unauthorized): fake invalid_api_key (401)');
    expect(server.chatRequests()).toHaveLength(1);
    expect(server.requests[0]?.headers['authorization']).toBe('Bearer sk-wrong');

    server.failWith(400, 1);
    const failed = await keyed.propose(request, new AbortController().signal).catch((e: unknown) => e);
    expect((failed as AgentError).kind).toBe('failed');
    expect(readFileSync(path.join(request.artifactDir, 'agent.log'), 'utf8')).toContain('=== failed: the model API refused the request (400 Bad Request)');
  });

  it('a server that never answers hits the agent timeout, promptly', async () => {
    const server = await fake();
    server.hang();
    const { request, backend } = setup(server);
    const started = Date.now();
    const error = await propose(backend, request, { timeoutMs: 400, signal: new AbortController().signal, retryDelaysMs: [10] }).catch((e: unknown) => e);
    expect((error as AgentError).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('api backend: preflight', () => {
  it('refuses a missing key variable before any request', async () => {
    const agentConfig = agentConfigWith({ type: 'api', provider: 'openai', model: 'gpt-5.5' });
    const error = await createApiBackend({ env: {}, agentConfig }).preflight!(new AbortController().signal).catch((e: unknown) => e);
    expect((error as AgentError).kind).toBe('fatal');
    expect((error as AgentError).message).toBe('agent.api_key_env: environment variable OPENAI_API_KEY is not set');
  });

  it('refuses a rejected key, and says a key is needed when none was configured', async () => {
    const server = await fake();
    server.failWith(401);
    const keyed = agentConfigWith({ type: 'api', provider: 'openai', model: 'gpt-5.5', base_url: server.url });
    const error = await createApiBackend({ env: { OPENAI_API_KEY: 'sk-bad' }, agentConfig: keyed }).preflight!(new AbortController().signal).catch((e: unknown) => e);
    expect((error as AgentError).message).toBe('agent.api_key_env: the key in OPENAI_API_KEY was rejected (401 Unauthorized): fake invalid_api_key (401)');
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/v1/models' });
    expect(server.requests[0]?.headers['authorization']).toBe('Bearer sk-bad');

    const keyless = agentConfigWith({ type: 'api', provider: 'openai-compatible', model: 'm', base_url: server.url });
    const error2 = await createApiBackend({ env: {}, agentConfig: keyless }).preflight!(new AbortController().signal).catch((e: unknown) => e);
    expect((error2 as AgentError).kind).toBe('fatal');
    expect((error2 as AgentError).message).toContain('set agent.api_key_env');
  });

  it('refuses an endpoint nobody listens on, naming agent.base_url', async () => {
    const server = await fake();
    const url = server.url;
    await server.close();
    servers.length = 0;
    const agentConfig = agentConfigWith({ type: 'api', provider: 'openai-compatible', model: 'm', base_url: url });
    const error = await createApiBackend({ env: {}, agentConfig }).preflight!(new AbortController().signal).catch((e: unknown) => e);
    expect((error as AgentError).kind).toBe('fatal');
    expect((error as AgentError).message).toBe(`cannot reach ${url}: connection refused; is the server running? (agent.base_url)`);
  });

  it('passes a server without /models, and one that is rate limited or overloaded', async () => {
    const bare = await fake([], { modelsRoute: false });
    const agentConfig = agentConfigWith({ type: 'api', provider: 'openai-compatible', model: 'm', base_url: bare.url });
    await createApiBackend({ env: {}, agentConfig }).preflight!(new AbortController().signal);
    for (const status of [429, 529, 503]) {
      bare.failWith(status, 1);
      await createApiBackend({ env: {}, agentConfig }).preflight!(new AbortController().signal);
    }
    expect(bare.requests).toHaveLength(4);
  });

  it('refuses configs it cannot use: no model, no base_url for openai-compatible', async () => {
    const noModel = agentConfigWith({ type: 'api', provider: 'anthropic' });
    await expect(createApiBackend({ env: { ANTHROPIC_API_KEY: 'k' }, agentConfig: noModel }).preflight!(new AbortController().signal)).rejects.toThrow(/agent.model is required/);
    const noUrl = agentConfigWith({ type: 'api', provider: 'openai-compatible', model: 'm' });
    await expect(createApiBackend({ env: {}, agentConfig: noUrl }).preflight!(new AbortController().signal)).rejects.toThrow(/agent.base_url is required/);
  });
});
