import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type ChatBody, type FakeOpenAIServer, type FakeStep } from '../fixtures/fake-llm/openai-server.js';
import { checkCliBuilt, cliPath, createTinyProject, killLeftovers, rowOf, runCli, type TinyProject } from '../helpers/project.js';

/**
 * The command as npm ships it: one CommonJS bundle (dist/cli/main.js) whose commands are chunks
 * loaded when they run (scripts/build-cli.mjs). What each command loads is what its start-up costs, so a
 * static import that pulls the config validator or the model SDKs into `--help` or `status`
 * fails here. And the model SDKs stay outside the bundle: the api agent's tool schemas, built
 * with the bundled zod, must still reach the model whole through the `ai` package.
 */

let project: TinyProject | undefined;
let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

beforeAll(() => checkCliBuilt());

const hooks = fileURLToPath(new URL('../fixtures/log-loads.mjs', import.meta.url));

/** The files (absolute paths) of every module the command loaded (CommonJS or ES), node: built-ins aside. */
async function modulesLoadedBy(p: TinyProject, args: readonly string[]): Promise<string[]> {
  return (await loadedBy(p, args)).filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url));
}

/** The built-in modules the command loaded (`node:` names, internal ones too), by import or require. */
async function builtinsLoadedBy(p: TinyProject, args: readonly string[]): Promise<string[]> {
  return (await loadedBy(p, args)).filter((url) => url.startsWith('node:'));
}

async function loadedBy(p: TinyProject, args: readonly string[]): Promise<string[]> {
  const log = path.join(p.root, `loads-${args.join('-')}.txt`);
  writeFileSync(log, '');
  const result = await runCli(p, args, { env: { NODE_OPTIONS: `--import=${hooks}`, CRUCIBLE_TEST_LOAD_LOG: log } });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return readFileSync(log, 'utf8').split('\n');
}

const cliDir = path.dirname(cliPath);
// Read for the version, as data: not code.
const packageJson = path.join(cliDir, '..', '..', 'package.json');
const source = (file: string): string => readFileSync(file, 'utf8');
// Markers of what must not load: zod's core and yaml's parser (bundled: found by their text).
const ZOD = '$ZodObject';
const YAML = 'YAMLParseError';

describe('the bundled crucible command', () => {
  it('--help loads the entry and its few shared chunks, nothing from node_modules', async () => {
    const p = createTinyProject();
    project = p;
    const loaded = await modulesLoadedBy(p, ['--help']);
    expect(loaded[0]).toBe(cliPath);
    expect(loaded.filter((file) => !file.startsWith(cliDir + path.sep) && file !== packageJson)).toEqual([]);
    expect(loaded.length).toBeLessThanOrEqual(5);
    for (const file of loaded) {
      expect(source(file)).not.toContain(YAML);
      expect(source(file)).not.toContain(ZOD);
    }
  });

  it('status and history --json load no config validator (zod), no YAML parser (a plain config is scanned) and nothing from node_modules', async () => {
    const p = createTinyProject();
    project = p;
    expect((await runCli(p, ['run', '-t', 't', '-n', '1', '--no-interactive'])).code).toBe(0);
    for (const args of [['status'], ['history', '--json']]) {
      const loaded = await modulesLoadedBy(p, args);
      expect(loaded.filter((file) => !file.startsWith(cliDir + path.sep) && file !== packageJson)).toEqual([]);
      for (const file of loaded) {
        expect(source(file)).not.toContain(ZOD);
        expect(source(file)).not.toContain(YAML);
      }
    }
  });

  it('--help, status and history load neither child_process, crypto nor zlib: they start no process, take no lock and compress nothing', async () => {
    const p = createTinyProject();
    project = p;
    expect((await runCli(p, ['run', '-t', 't', '-n', '1', '--no-interactive'])).code).toBe(0);
    for (const args of [['--help'], ['status'], ['history', '--json']]) {
      const builtins = await builtinsLoadedBy(p, args);
      // node:fs is always there: the list is read.
      expect(builtins, args.join(' ')).toContain('node:fs');
      expect(builtins.filter((name) => /^node:(child_process|crypto|dgram|internal\/child_process|zlib)$/.test(name)), args.join(' ')).toEqual([]);
    }
  });

  it('an api agent run sends the file tools with their described parameters through the external ai SDK', async () => {
    const call = (name: string, args: Record<string, unknown>) => ({ name, args });
    server = await startFakeOpenAI((_body: ChatBody, step: number): FakeStep =>
      step === 0 ? { toolCalls: [call('edit_file', { path: 'solution.js', old_string: 'X = 1;', new_string: 'X = 50;' })] } : { text: 'Raised X from 1 to 50' },
    );
    const p = createTinyProject({
      configText: [
        'name: tiny',
        'files:',
        '  editable: [solution.js]',
        '  hidden: [evaluate.js]',
        'commands:',
        '  run: node evaluate.js > run.log 2>&1',
        '  eval: cat run.log',
        'metric:',
        '  name: score',
        '  direction: maximize',
        'constraints:',
        '  timeout_seconds: 10',
        'agent:',
        '  type: api',
        '  provider: openai-compatible',
        '  model: qwen3:8b',
        `  base_url: ${server.url}`,
        '',
      ].join('\n'),
    });
    project = p;
    const result = await runCli(p, ['run', '-t', 't', '-n', '1', '--no-interactive'], { timeoutMs: 60_000 });
    expect(result.stderr).not.toContain('internal error');
    expect(result.code).toBe(0);
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'keep', metric_value: '50', description: 'Raised X from 1 to 50' });
    const tools = server.chatRequests()[0]?.tools as unknown as { function: { name: string; parameters: { properties: Record<string, { description?: string }> } } }[];
    const edit = tools.find((t) => t.function.name === 'edit_file');
    expect(edit?.function.parameters.properties['path']?.description).toMatch(/^Path relative to the project folder/);
  }, 90_000);
});
