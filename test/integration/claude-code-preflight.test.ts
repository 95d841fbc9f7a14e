import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClaudeCodeBackend } from '../../src/agents/claude-code/backend.js';
import { MISSING_SDK_MESSAGE } from '../../src/agents/claude-code/load-sdk.js';
import { AgentError } from '../../src/errors.js';
import { startFakeAnthropic, type FakeAnthropicServer } from '../fixtures/fake-llm/anthropic-server.js';

// Preflight makes no Claude Code session (at most one GET /v1/models), so these are cheap.

let fake: FakeAnthropicServer;
let emptyHome: string;
const signal = new AbortController().signal;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  emptyHome = mkdtempSync(path.join(os.tmpdir(), 'crucible-cc-home-'));
});

afterAll(async () => {
  await fake.close();
  rmSync(emptyHome, { recursive: true, force: true });
});

/** An environment with nothing of this machine's Claude setup in it. */
function envWith(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: emptyHome, ...vars };
}

async function preflightError(env: NodeJS.ProcessEnv, sdkSpecifier?: string): Promise<AgentError | null> {
  const backend = createClaudeCodeBackend({ env, ...(sdkSpecifier ? { sdkSpecifier } : {}) });
  try {
    await backend.preflight!(signal);
    return null;
  } catch (error) {
    if (error instanceof AgentError) return error;
    throw error;
  }
}

describe('claude-code preflight', () => {
  it('says how to install the SDK when it is missing', async () => {
    const error = await preflightError(envWith({ ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: fake.url }), '@anthropic-ai/claude-agent-sdk-not-installed');
    expect(error?.kind).toBe('fatal');
    expect(error?.message).toBe('agent.type claude-code needs @anthropic-ai/claude-agent-sdk: npm install -g @anthropic-ai/claude-agent-sdk (or use agent.type: api)');
    expect(error?.message).toBe(MISSING_SDK_MESSAGE);
  });

  it('refuses to start without a key and without a claude login, and says what to do', async () => {
    const error = await preflightError(envWith({}));
    expect(error?.kind).toBe('fatal');
    expect(error?.message).toMatch(/no credentials: set ANTHROPIC_API_KEY .*log in with the Claude Code CLI/);
  });

  it('accepts a claude login without asking the endpoint anything', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'crucible-cc-login-'));
    try {
      mkdirSync(path.join(home, '.claude'));
      writeFileSync(path.join(home, '.claude', '.credentials.json'), '{"claudeAiOauth":{"accessToken":"sk-ant-oat01-test"}}');
      const before = fake.requests.length;
      expect(await preflightError({ PATH: process.env['PATH'], HOME: home, ANTHROPIC_BASE_URL: fake.url })).toBeNull();
      expect(fake.requests.length).toBe(before);
      // The login may also live in a custom CLAUDE_CONFIG_DIR, which HOME does not reveal.
      const custom = path.join(home, 'elsewhere');
      mkdirSync(custom);
      writeFileSync(path.join(custom, '.claude.json'), '{"oauthAccount":{"emailAddress":"a@b.c"}}');
      expect(await preflightError({ PATH: process.env['PATH'], HOME: emptyHome, CLAUDE_CONFIG_DIR: custom })).toBeNull();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('checks the key with one request to the endpoint, and a 401 is fatal naming the variable', async () => {
    fake.reset();
    const before = fake.requests.length;
    expect(await preflightError(envWith({ ANTHROPIC_API_KEY: 'sk-good', ANTHROPIC_BASE_URL: fake.url }))).toBeNull();
    const request = fake.requests[before]!;
    expect(fake.requests.length).toBe(before + 1);
    expect(`${request.method} ${request.url}`).toMatch(/^GET \/v1\/models/);
    expect(request.headers['x-api-key']).toBe('sk-good');

    fake.failWith(401);
    const error = await preflightError(envWith({ ANTHROPIC_API_KEY: 'sk-bad', ANTHROPIC_BASE_URL: fake.url }));
    expect(error?.kind).toBe('fatal');
    expect(error?.message).toMatch(/ANTHROPIC_API_KEY was rejected \(401/);

    fake.reset();
    fake.failWith(403);
    const forbidden = await preflightError(envWith({ ANTHROPIC_AUTH_TOKEN: 'tok', ANTHROPIC_BASE_URL: fake.url }));
    expect(forbidden?.message).toMatch(/ANTHROPIC_AUTH_TOKEN was rejected \(403/);
    expect(fake.requests.at(-1)!.headers['authorization']).toBe('Bearer tok');
    fake.reset();
  });

  it('does not refuse over a rate limit, an overload, an outage or a gateway without /v1/models', async () => {
    for (const status of [429, 529, 500, 404]) {
      fake.reset();
      fake.failWith(status, 1);
      expect(await preflightError(envWith({ ANTHROPIC_API_KEY: 'sk-good', ANTHROPIC_BASE_URL: fake.url })), `status ${status}`).toBeNull();
    }
    fake.reset();
  });

  it('refuses an endpoint nobody listens on', async () => {
    const port = await freePort();
    const error = await preflightError(envWith({ ANTHROPIC_API_KEY: 'sk-good', ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` }));
    expect(error?.kind).toBe('fatal');
    expect(error?.message).toBe(`cannot reach http://127.0.0.1:${port}: connection refused; check ANTHROPIC_BASE_URL`);
  });
});

/** A port that was free a moment ago: nothing listens there. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
