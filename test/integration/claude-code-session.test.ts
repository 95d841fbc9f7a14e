import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClaudeCodeBackend } from '../../src/agents/claude-code/backend.js';
import type { ProposalRequest } from '../../src/agents/types.js';
import { AgentError } from '../../src/errors.js';
import { propose } from '../../src/loop/propose.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { agentConfigWith } from '../helpers/agent-config.js';
import { startFakeAnthropic, type FakeAnthropicServer } from '../fixtures/fake-llm/anthropic-server.js';

// One proposal at a time, through the loop's own propose() (its retries, its time limit), with
// the real Agent SDK against a fake Anthropic API. Each case here is one to three sessions.

const MODEL = 'claude-sonnet-4-5';

let fake: FakeAnthropicServer;
let root: string;
const signal = new AbortController().signal;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  root = mkdtempSync(path.join(os.tmpdir(), 'crucible-cc-session-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => {
  fake.reset();
  fake.setScript([]);
});

/** A workspace (solution.js editable, package.json read-only, evaluate.js hidden and absent) and a request for trial `trial`. */
function requestFor(trial: number): ProposalRequest {
  const workspace = path.join(root, `ws-${trial}`);
  const artifactDir = path.join(root, `artifacts-${trial}`);
  mkdirSync(workspace, { recursive: true });
  mkdirSync(artifactDir, { recursive: true });
  writeFileSync(path.join(workspace, 'solution.js'), 'export const X = 1;\n');
  writeFileSync(path.join(workspace, 'package.json'), '{ "type": "module" }\n');
  return {
    trial,
    prompt: 'Make the score better by changing X in solution.js.',
    systemPrompt: 'You are a test agent.',
    workspace: { root: workspace, policy: createAccessPolicy({ editable: ['solution.js'], readonly: ['package.json'], hidden: ['evaluate.js'] }) },
    history: [],
    objective: { name: 'score', direction: 'maximize' },
    agentConfig: agentConfigWith({ type: 'claude-code', model: MODEL }),
    artifactDir,
  };
}

/** The user's environment: a key for the fake, no retries inside Claude Code, a temp folder to watch. */
function keyEnv(tmp: string): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: root, TMPDIR: tmp, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0' };
}

const EDIT_SCRIPT = [
  { content: [{ type: 'tool_use' as const, name: 'Read', input: { file_path: 'solution.js' } }] },
  { content: [{ type: 'tool_use' as const, name: 'Edit', input: { file_path: 'solution.js', old_string: 'X = 1;', new_string: 'X = 7;' } }] },
  { content: [{ type: 'text' as const, text: 'Set X to 7.' }] },
];

describe('a claude-code session', () => {
  it('is retried by the loop after an overload and a server error, and then succeeds', async () => {
    const tmp = mkdtempSync(path.join(root, 'tmp-'));
    const request = requestFor(1);
    fake.setScript(EDIT_SCRIPT);
    fake.failWith(529, 1);
    fake.failWith(500, 1);
    const retries: AgentError[] = [];
    const proposal = await propose(createClaudeCodeBackend({ env: keyEnv(tmp) }), request, {
      timeoutMs: 60_000,
      signal,
      retryDelaysMs: [10, 10, 10],
      onRetry: (_attempt, error) => retries.push(error),
    });
    expect(retries.map((e) => e.kind)).toEqual(['transient', 'transient']);
    expect(retries[0]?.message).toMatch(/529/);
    expect(retries[1]?.message).toMatch(/500/);
    expect(proposal.description).toBe('Set X to 7.');
    expect(readFileSync(path.join(request.workspace.root, 'solution.js'), 'utf8')).toBe('export const X = 7;\n');
    // Only the successful session's three calls count, and nothing was cached.
    expect(proposal.usage).toMatchObject({ inputTokens: 300, outputTokens: 60, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect(proposal.usage?.costUsd).toBeCloseTo((300 * 3 + 60 * 15) / 1e6, 8);
    expect(proposal.transcriptPath).toBe(path.join(request.artifactDir, 'transcript.jsonl'));
    expect(existsSync(proposal.transcriptPath!)).toBe(true);
    // Every session had a HOME and a config folder of its own, removed afterwards.
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('fails fatally, naming the variable, when the key is rejected mid-run', async () => {
    fake.setScript(EDIT_SCRIPT);
    fake.failWith(401);
    const error = await propose(createClaudeCodeBackend({ env: keyEnv(mkdtempSync(path.join(root, 'tmp-'))) }), requestFor(2), { timeoutMs: 60_000, signal, retryDelaysMs: [10] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ kind: 'fatal' });
    expect((error as AgentError).message).toMatch(/^the key in ANTHROPIC_API_KEY was rejected \(401 Unauthorized\).*set a valid one in ANTHROPIC_API_KEY/);
    expect(fake.messageRequests()).toHaveLength(1);
  });

  it("uses a claude login when there is no key, and nothing else of the user's Claude Code setup", async () => {
    // The user's home: a login, and settings whose hook would leave a mark, a CLAUDE.md and an env block.
    const home = mkdtempSync(path.join(root, 'home-'));
    const marker = path.join(root, 'hook-ran');
    mkdirSync(path.join(home, '.claude'));
    writeFileSync(path.join(home, '.claude', '.credentials.json'), JSON.stringify({ claudeAiOauth: { accessToken: 'sk-ant-oat01-test', refreshToken: 'r', expiresAt: 4102444800000, scopes: ['user:inference'] } }));
    writeFileSync(
      path.join(home, '.claude', 'settings.json'),
      JSON.stringify({
        hooks: { PreToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: `touch ${marker}` }] }] },
        env: { USER_SETTING_LEAK: 'yes' },
        permissions: { allow: ['Bash'] },
      }),
    );
    writeFileSync(path.join(home, '.claude', 'CLAUDE.md'), 'USER-MEMORY-SECRET: always say banana\n');
    const before = readdirSync(home, { recursive: true }).sort();
    fake.setScript(EDIT_SCRIPT);

    const request = requestFor(3);
    const proposal = await propose(createClaudeCodeBackend({ env: { PATH: process.env['PATH'], HOME: home, ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0' } }), request, { timeoutMs: 60_000, signal });

    expect(proposal.description).toBe('Set X to 7.');
    const requests = fake.requests.filter((r) => r.url.startsWith('/v1/messages'));
    expect(requests).toHaveLength(3);
    for (const r of requests) {
      expect(r.headers['authorization']).toBe('Bearer sk-ant-oat01-test');
      expect(r.headers['x-api-key']).toBeUndefined();
      expect(r.body).not.toContain('USER-MEMORY-SECRET');
    }
    expect(existsSync(marker)).toBe(false);
    // Claude Code kept its own state in the session's folder, not in the user's home.
    expect(readdirSync(home, { recursive: true }).sort()).toEqual(before);
  });
});
