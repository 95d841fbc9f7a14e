import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/runner/execute.js';
import type { SandboxSettings } from '../../src/sandbox/decide.js';
import { slotSandbox } from '../../src/sandbox/run-sandbox.js';
import { openSlots, type SlotWorktree } from '../../src/workspace/slot-worktree.js';
import { git, testGitEnv, writeFiles } from '../helpers/git-repo.js';
import { sandboxSupport, skipReason } from '../helpers/sandbox.js';

/**
 * Issue 8: a slot must never change the project folder or another slot. Under the sandbox an
 * experiment in a slot writes only its slot and what sandbox.writable lists; the project, the
 * other slots and what the shared links point to are read-only. (Written against the sandbox a
 * run gives an experiment in the project folder first, with the slot as its working folder: the
 * writes into the project and into the other slot went through.)
 */

const settings: SandboxSettings = { enabled: true, network: false, agent_network: true, writable: [], agent_writable: [] };

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A project under `base` (default /var/tmp: a sandboxed command's own /tmp hides a project under /tmp, which would prove nothing here). */
async function projectWithSlots(base = '/var/tmp'): Promise<{ dir: string; slots: SlotWorktree[] }> {
  const dir = realpathSync(mkdtempSync(path.join(base, 'crucible-slot-sbx-')));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFiles(dir, { 'train.py': 'lr = 0.1\n', '.gitignore': '.venv/\n', '.crucible/config.yaml': 'name: t\n' });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  writeFiles(dir, { '.venv/marker': 'project venv\n', 'notes.txt': 'mine\n' });
  const slots = await openSlots({ projectDir: dir, count: 2, commit: 'HEAD', shared: ['.venv'], env: testGitEnv });
  cleanups.push(async () => {
    for (const slot of slots) await slot.remove().catch(() => undefined);
  });
  return { dir, slots };
}

/** Runs `script` in `slot` under the slot's sandbox; returns what it printed. */
async function runInSlot(dir: string, slot: SlotWorktree, script: string, extra: Partial<SandboxSettings> = {}): Promise<string> {
  const wrap = slotSandbox({ on: true, bwrap: sandboxSupport.ok ? sandboxSupport.bwrap : 'bwrap', why: '' }, { ...settings, ...extra }, { projectDir: dir, slotDir: slot.dir, env: process.env });
  const result = await runCommand({ command: script, cwd: slot.dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeoutMs: 20_000, sandbox: wrap! });
  return `${result.stdout}${result.stderr}`;
}

describe.skipIf(!sandboxSupport.ok)(`an experiment in a slot, under the sandbox${skipReason}`, () => {
  it('writes its own slot, and neither the project folder, another slot, nor what a shared link points to', async () => {
    const { dir, slots } = await projectWithSlots();
    const [mine, other] = [slots[0]!, slots[1]!];
    const output = await runInSlot(
      dir,
      mine,
      [
        `echo planted > ${JSON.stringify(path.join(dir, 'planted.txt'))}`,
        `echo planted > ${JSON.stringify(path.join(dir, 'train.py'))}`,
        `echo planted > ${JSON.stringify(path.join(other.dir, 'train.py'))}`,
        `echo planted > ${JSON.stringify(path.join(other.dir, 'planted.txt'))}`,
        'echo planted > .venv/marker',
        'echo planted > .git',
        'echo own > own.txt',
        'echo ok',
      ].join('; '),
    );
    expect(output).toMatch(/Read-only file system/);
    expect(output).toContain('ok');
    expect(existsSync(path.join(dir, 'planted.txt'))).toBe(false);
    expect(readFileSync(path.join(dir, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    expect(readFileSync(path.join(other.dir, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    expect(existsSync(path.join(other.dir, 'planted.txt'))).toBe(false);
    expect(readFileSync(path.join(dir, '.venv', 'marker'), 'utf8')).toBe('project venv\n');
    expect(readFileSync(path.join(mine.dir, '.git'), 'utf8')).toBe('gitdir: /dev/null\n');
    expect(readFileSync(path.join(mine.dir, 'own.txt'), 'utf8')).toBe('own\n');
  });

  it('writes a shared target when sandbox.writable lists it (relative entries are the project\'s)', async () => {
    const { dir, slots } = await projectWithSlots();
    const output = await runInSlot(dir, slots[0]!, 'echo rebuilt > .venv/marker && echo ok', { writable: ['.venv'] });
    expect(output).toContain('ok');
    expect(readFileSync(path.join(dir, '.venv', 'marker'), 'utf8')).toBe('rebuilt\n');
  });

  it('reads the project, shared links included, even when the project lies under /tmp', async () => {
    const { dir, slots } = await projectWithSlots(os.tmpdir());
    const output = await runInSlot(dir, slots[0]!, `cat .venv/marker ${JSON.stringify(path.join(dir, 'notes.txt'))}`);
    expect(output).toBe('project venv\nmine\n');
  });
});
