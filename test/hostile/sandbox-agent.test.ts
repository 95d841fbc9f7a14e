import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { checkCliBuilt, createTinyProject, rowOf, runCli, type TinyProject } from '../helpers/project.js';
import { sandboxSupport, skipReason, useProjectsOutsideTmp } from '../helpers/sandbox.js';

/**
 * Issue 7, classes 9 and 10: a command agent under the sandbox. The agent below knows the
 * project's path (a shell agent can find it: the worktree's .git file names it) and tries to read
 * the hidden harness, to use the project's git, and to rewrite the harness, before doing its job.
 * (Written against crucible without the sandbox first: it read the harness and moved main.)
 */

const HOSTILE_AGENT = `import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
const project = process.env.HOSTILE_PROJECT;
const run = (cmd, args, env = process.env) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  return { status: r.status, output: String(r.stdout) + String(r.stderr) };
};
const withoutAgentGit = { ...process.env };
delete withoutAgentGit.GIT_DIR;
delete withoutAgentGit.GIT_WORK_TREE;
const reach = await new Promise((resolve) => {
  net.connect(Number(process.env.HOSTILE_PORT), '127.0.0.1').on('connect', function () { this.destroy(); resolve('connected'); }).on('error', (e) => resolve(e.code));
});
const record = {
  cat: run('cat', [project + '/evaluate.js']),
  gitShow: run('git', ['-C', project, 'show', 'HEAD:evaluate.js'], withoutAgentGit),
  gitBranch: run('git', ['--git-dir', project + '/.git', 'branch', '-f', 'main', 'HEAD'], withoutAgentGit),
  write: run('sh', ['-c', 'echo "console.log(\\'score: 1000\\')" > "$0/evaluate.js"', project]),
  ownGit: run('git', ['status', '--short']),
  reach,
};
writeFileSync(process.env.CRUCIBLE_TEST_CTL + '/hostile-agent.json', JSON.stringify(record));
writeFileSync('solution.js', readFileSync('solution.js', 'utf8').replace(/X = [^;]*;/, 'X = 7;'));
console.log('set X to 7');
`;

interface Attempt {
  status: number | null;
  output: string;
}
interface AgentRecord {
  cat: Attempt;
  gitShow: Attempt;
  gitBranch: Attempt;
  write: Attempt;
  ownGit: Attempt;
  reach: string;
}

let project: TinyProject | undefined;
let server: net.Server | undefined;

beforeAll(() => checkCliBuilt());
useProjectsOutsideTmp();
afterEach(() => {
  server?.close();
  project?.cleanup();
  project = undefined;
  server = undefined;
});

const CONFIG = [
  'name: tiny',
  'files: { editable: [solution.js], readonly: [package.json], hidden: [evaluate.js] }',
  'commands: { run: node evaluate.js > run.log 2>&1, eval: cat run.log }',
  'metric: { name: score, direction: maximize }',
  'agent: { type: command, command: node "$HOSTILE_AGENT", timeout_seconds: 20 }',
  // ctl/ is outside the project: evaluate.js and the agent write their traces there.
  'sandbox: { enabled: true, writable: ["../ctl"], agent_writable: ["../ctl"] }',
  '',
].join('\n');

/**
 * Runs one trial in `runDir` with the hostile agent aimed at `target` (a checkout holding the
 * hidden harness) and checks that every attempt failed while the agent's own work succeeded.
 */
async function expectContained(p: TinyProject, runDir: string, target: string): Promise<void> {
  writeFileSync(path.join(p.ctl, 'hostile-agent.mjs'), HOSTILE_AGENT);
  server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const harness = readFileSync(path.join(target, 'evaluate.js'), 'utf8');
  const main = git(target, 'rev-parse', 'main');

  const result = await runCli({ ...p, dir: runDir }, ['run', '--tag', 't', '-n', '1'], {
    env: { HOSTILE_AGENT: path.join(p.ctl, 'hostile-agent.mjs'), HOSTILE_PROJECT: target, HOSTILE_PORT: String((server.address() as net.AddressInfo).port) },
  });
  expect(result.code, result.stderr).toBe(0);
  const recordFile = path.join(p.ctl, 'hostile-agent.json');
  expect(existsSync(recordFile), result.stderr).toBe(true);
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as AgentRecord;

  expect(record.cat.status).not.toBe(0);
  expect(record.cat.output).not.toContain('score:');
  expect(record.gitShow.status).not.toBe(0);
  expect(record.gitShow.output).not.toContain('score:');
  expect(record.gitBranch.status).not.toBe(0);
  expect(git(target, 'rev-parse', 'main')).toBe(main);
  expect(readFileSync(path.join(target, 'evaluate.js'), 'utf8')).toBe(harness);
  // What it may do: its own git, the network (agent_network defaults to true), its edit.
  expect(record.ownGit.status).toBe(0);
  expect(record.reach).toBe('connected');
  expect(rowOf(runDir, 't', 1)).toMatchObject({ status: 'keep', metric_value: '7' });
}

describe.skipIf(!sandboxSupport.ok)(`a command agent under the sandbox${skipReason}`, () => {
  it("cannot read the hidden harness, use the project's git or rewrite the harness, and still does its job", async () => {
    project = createTinyProject({ configText: CONFIG });
    await expectContained(project, project.dir, project.dir);
  });

  it('cannot reach the main checkout and git folder of a project that is a linked worktree', async () => {
    const p = createTinyProject({ configText: CONFIG });
    project = p;
    const linked = path.join(p.root, 'linked');
    git(p.dir, 'worktree', 'add', '-q', '-b', 'work', linked);
    await expectContained(p, linked, p.dir);
  });
});
