import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBenchProject, paramsWith } from './fixture.mjs';
import { runTunerTrials } from './tuner-trials.mjs';

/**
 * The `api` and `claude-code` backends on the bench project, against the fake model servers the
 * tests use (test/fixtures/fake-llm, 127.0.0.1), which answer at once: what is left of a trial is
 * crucible's own time (and, for claude-code, Claude Code's start). Every trial the model sets
 * DELTA to a number of the trial's own, so the runs keep and discard as the command agent's do.
 *
 * The fakes are TypeScript; they are stripped of their types with the checkout's `typescript` into
 * the bench's temp folder (Node 20 cannot run .ts), so the bench uses the very servers the tests do.
 */

/** Loads both fake servers from `repoRoot`'s test fixtures. */
export async function loadFakeServers(repoRoot, tmp) {
  const require = createRequire(path.join(repoRoot, 'package.json'));
  const ts = require('typescript');
  const out = path.join(tmp, 'fake-llm');
  mkdirSync(out, { recursive: true });
  const load = async (name) => {
    const source = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'fake-llm', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    const file = path.join(out, `${name}.mjs`);
    writeFileSync(file, outputText);
    return import(pathToFileURL(file).href);
  };
  const openai = await load('openai-server');
  const anthropic = await load('anthropic-server');
  return { startFakeOpenAI: openai.startFakeOpenAI, startFakeAnthropic: anthropic.startFakeAnthropic };
}

/** The trial number crucible wrote in its prompt ("Trial: N"), wherever it sits in the request. */
function trialOf(body) {
  return Number(/Trial: (\d+)/.exec(JSON.stringify(body))?.[1] ?? 0);
}

const deltaOf = (trial) => ((trial * 7919) % 99991) + 1;

/** OpenAI-compatible: write params.txt, then describe the change. */
function openaiScript(body, step) {
  const v = deltaOf(trialOf(body));
  if (step === 0) return { toolCalls: [{ name: 'write_file', args: { path: 'params.txt', content: paramsWith(v) } }] };
  return { text: `set DELTA to ${v}` };
}

/** Claude Code reads a file before it may write it: Read, Write, then the description. */
function anthropicScript(body, step) {
  const v = deltaOf(trialOf(body));
  if (step === 0) return { content: [{ type: 'tool_use', name: 'Read', input: { file_path: 'params.txt' } }] };
  if (step === 1) return { content: [{ type: 'tool_use', name: 'Write', input: { file_path: 'params.txt', content: paramsWith(v) } }] };
  return { content: [{ type: 'text', text: `set DELTA to ${v}` }] };
}

/**
 * `count` trials of `backend` ('api' or 'claude-code') through `startRun`, each against a fresh
 * fake server. Returns what runTunerTrials returns, plus the model requests per trial.
 */
export async function runModelTrials(startRun, fakes, { backend, dir, count, env, stopSignal }) {
  const server = backend === 'api' ? await fakes.startFakeOpenAI(openaiScript) : await fakes.startFakeAnthropic(anthropicScript);
  try {
    const projectDir = createBenchProject(dir, { agent: backend, baseUrl: server.url });
    const home = mkdtempSync(path.join(path.dirname(dir), 'home-'));
    const runEnv =
      backend === 'api'
        ? env
        : // The user's Claude Code setup must not leak in: an empty HOME, a key for the fake, no retries.
          { ...env, HOME: home, ANTHROPIC_API_KEY: 'sk-ant-bench', ANTHROPIC_BASE_URL: server.url, CLAUDE_CODE_MAX_RETRIES: '0' };
    const timed = await runTunerTrials(startRun, { projectDir, tag: backend, count, env: runEnv, stopSignal, agentType: null });
    return { ...timed, requests: server.requests.length };
  } finally {
    await server.close();
  }
}
