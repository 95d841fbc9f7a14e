import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiBackend } from '../../src/agents/api/api-backend.js';
import type { ProposalRequest } from '../../src/agents/types.js';
import type { Config } from '../../src/config/schema.js';
import type { AgentError } from '../../src/errors.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { agentConfigWith } from '../helpers/agent-config.js';
import { startFakeAnthropic, type FakeAnthropicServer } from '../fixtures/fake-llm/anthropic-server.js';
import { startFakeOpenAI, type FakeOpenAIServer } from '../fixtures/fake-llm/openai-server.js';

/** The `anthropic` and `openai` providers of the api backend, each against a fake of its own wire protocol. */

const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(agent: Partial<Config['agent']>) {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'crucible-api-provider-')));
  dirs.push(base);
  const root = path.join(base, 'workspace');
  const artifactDir = path.join(base, 'trial-1');
  mkdirSync(root);
  mkdirSync(artifactDir);
  writeFileSync(path.join(root, 'solution.js'), 'export const X = 1;\n');
  const agentConfig = agentConfigWith({ type: 'api', timeout_seconds: 10, ...agent });
  const request: ProposalRequest = {
    trial: 1,
    prompt: 'Improve the score.',
    systemPrompt: 'You are an optimisation agent.',
    workspace: { root, policy: createAccessPolicy({ editable: ['solution.js'], readonly: [], hidden: [] }) },
    history: [],
    objective: { name: 'score', direction: 'maximize' },
    agentConfig,
    artifactDir,
  };
  return { root, request };
}

async function anthropicFake(script: Parameters<typeof startFakeAnthropic>[0] = []): Promise<FakeAnthropicServer> {
  const server = await startFakeAnthropic(script);
  closers.push(() => server.close());
  return server;
}

async function openaiFake(script: Parameters<typeof startFakeOpenAI>[0] = []): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAI(script);
  closers.push(() => server.close());
  return server;
}

type AnthropicBody = { system?: { text: string; cache_control?: unknown }[]; messages: { role: string; content: { type: string; cache_control?: unknown }[] }[] };

describe('provider anthropic', () => {
  it('edits through the Messages API with prompt caching on, and prices the cache tokens', async () => {
    const server = await anthropicFake([
      { content: [{ type: 'tool_use', name: 'read_file', input: { path: 'solution.js' } }], usage: { input_tokens: 1000, output_tokens: 50, cache_creation_input_tokens: 2000, cache_read_input_tokens: 0 } },
      {
        content: [{ type: 'tool_use', name: 'edit_file', input: { path: 'solution.js', old_string: 'X = 1', new_string: 'X = 7' } }],
        usage: { input_tokens: 100, output_tokens: 50, cache_creation_input_tokens: 300, cache_read_input_tokens: 2000 },
      },
      { content: [{ type: 'text', text: 'Set X to 7' }], usage: { input_tokens: 100, output_tokens: 10, cache_creation_input_tokens: 100, cache_read_input_tokens: 2300 } },
    ]);
    const { root, request } = setup({ provider: 'anthropic', model: 'claude-sonnet-4-5-20250929', base_url: `${server.url}/v1` });
    const backend = createApiBackend({ env: { ANTHROPIC_API_KEY: 'sk-ant-test' }, agentConfig: request.agentConfig });

    await backend.preflight!(new AbortController().signal);
    const proposal = await backend.propose(request, new AbortController().signal);

    expect(readFileSync(path.join(root, 'solution.js'), 'utf8')).toBe('export const X = 7;\n');
    expect(proposal.description).toBe('Set X to 7');
    expect(proposal.usage).toMatchObject({ inputTokens: 1200, outputTokens: 110, cacheReadTokens: 4300, cacheWriteTokens: 2400 });
    // claude-sonnet-4-5: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million tokens.
    expect(proposal.usage?.costUsd).toBeCloseTo((1200 * 3 + 110 * 15 + 4300 * 0.3 + 2400 * 3.75) / 1e6, 6);

    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/v1/models' });
    expect(server.requests[0]?.headers['x-api-key']).toBe('sk-ant-test');
    const bodies = server.messageRequests() as unknown as AnthropicBody[];
    expect(bodies).toHaveLength(3);
    // The stable prefix carries cache breakpoints: the system prompt, the trial's prompt, and the latest turn.
    expect(bodies[0]!.system?.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(bodies[0]!.messages[0]!.content.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    const third = bodies[2]!;
    expect(third.messages[0]!.content.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(third.messages.at(-1)!.content.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
  });

  it('a rejected key is fatal, in preflight and in a proposal, and names ANTHROPIC_API_KEY', async () => {
    const server = await anthropicFake();
    server.failWith(401);
    const { request } = setup({ provider: 'anthropic', model: 'claude-sonnet-4-6', base_url: `${server.url}/v1` });
    const backend = createApiBackend({ env: { ANTHROPIC_API_KEY: 'sk-ant-wrong' }, agentConfig: request.agentConfig });
    const fromPreflight = (await backend.preflight!(new AbortController().signal).catch((e: unknown) => e)) as AgentError;
    expect(fromPreflight.kind).toBe('fatal');
    expect(fromPreflight.message).toMatch(/^agent\.api_key_env: the key in ANTHROPIC_API_KEY was rejected \(401 Unauthorized\)/);
    const fromPropose = (await backend.propose(request, new AbortController().signal).catch((e: unknown) => e)) as AgentError;
    expect(fromPropose.kind).toBe('fatal');
    expect(fromPropose.message).toMatch(/ANTHROPIC_API_KEY was rejected \(401 Unauthorized\)/);
  });

  it('an overloaded API (529) is transient', async () => {
    const server = await anthropicFake();
    server.failWith(529);
    const { request } = setup({ provider: 'anthropic', model: 'claude-haiku-4-5', base_url: `${server.url}/v1` });
    const backend = createApiBackend({ env: { ANTHROPIC_API_KEY: 'k' }, agentConfig: request.agentConfig });
    await backend.preflight!(new AbortController().signal);
    const error = (await backend.propose(request, new AbortController().signal).catch((e: unknown) => e)) as AgentError;
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/529 Overloaded/);
  });
});

describe('provider openai', () => {
  it('uses Chat Completions with the key as a bearer token, and prices the model from the table', async () => {
    const server = await openaiFake([{ text: 'Left it as is', usage: { prompt_tokens: 2000, completion_tokens: 100, cached_tokens: 1000 } }]);
    const { request } = setup({ provider: 'openai', model: 'gpt-4.1', base_url: server.url });
    const backend = createApiBackend({ env: { OPENAI_API_KEY: 'sk-test' }, agentConfig: request.agentConfig });
    await backend.preflight!(new AbortController().signal);
    const proposal = await backend.propose(request, new AbortController().signal);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/models', 'POST /v1/chat/completions']);
    expect(server.requests[1]?.headers['authorization']).toBe('Bearer sk-test');
    // gpt-4.1: $2 in, $0.50 cached, $8 out per million tokens.
    expect(proposal.usage).toEqual({ inputTokens: 1000, outputTokens: 100, cacheReadTokens: 1000, cacheWriteTokens: 0, costUsd: (1000 * 2 + 1000 * 0.5 + 100 * 8) / 1e6 });
  });
});

describe('the fake OpenAI server', () => {
  it('streams a reply with a final usage chunk', async () => {
    const server = await openaiFake([{ text: 'streamed hello', usage: { prompt_tokens: 12, completion_tokens: 3 } }]);
    const provider = createOpenAICompatible({ name: 'fake', baseURL: server.url, includeUsage: true });
    const result = streamText({ model: provider('m'), prompt: 'hi', maxRetries: 0 });
    expect(await result.text).toBe('streamed hello');
    expect((await result.usage).inputTokens).toBe(12);
    expect((await result.usage).outputTokens).toBe(3);
    expect(server.chatRequests()[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });
});
