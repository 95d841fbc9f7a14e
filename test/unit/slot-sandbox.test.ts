import { describe, expect, it } from 'vitest';
import { bwrapArgs } from '../../src/sandbox/bwrap-args.js';
import { slotSandbox } from '../../src/sandbox/run-sandbox.js';
import type { SandboxSettings } from '../../src/sandbox/decide.js';

const settings: SandboxSettings = { enabled: true, network: false, agent_network: true, writable: ['.venv', '~/.cache/torch'], agent_writable: [] };
const env = { HOME: '/home/u' };

describe('slotSandbox', () => {
  const wrap = slotSandbox({ on: true, bwrap: '/usr/bin/bwrap', why: '' }, settings, { projectDir: '/p', slotDir: '/p/.crucible/slots/2', readonly: ['/p/.crucible/slots/2/program.md'], env })!;
  const args = wrap.args;
  const at = (...triple: string[]): number => args.findIndex((_, i) => triple.every((t, j) => args[i + j] === t));

  it.each([
    ['the project is read-only, bound before the slot is made writable', ['--ro-bind', '/p', '/p'], ['--bind', '/p/.crucible/slots/2', '/p/.crucible/slots/2']],
    ["the slot's .crucible stays read-only", ['--bind', '/p/.crucible/slots/2', '/p/.crucible/slots/2'], ['--ro-bind-try', '/p/.crucible/slots/2/.crucible', '/p/.crucible/slots/2/.crucible']],
    ["the slot's .git (leading nowhere) stays read-only", ['--bind', '/p/.crucible/slots/2', '/p/.crucible/slots/2'], ['--ro-bind-try', '/p/.crucible/slots/2/.git', '/p/.crucible/slots/2/.git']],
    ['the instructions stay read-only', ['--bind', '/p/.crucible/slots/2', '/p/.crucible/slots/2'], ['--ro-bind-try', '/p/.crucible/slots/2/program.md', '/p/.crucible/slots/2/program.md']],
  ])('%s', (_label, first, second) => {
    expect(at(...first)).toBeGreaterThanOrEqual(0);
    expect(at(...first)).toBeLessThan(at(...second));
  });

  it('binds the project before hiding credential folders, so a project in the home folder does not bring ~/.ssh back', () => {
    const view = { writable: ['/home/u/p/.crucible/slots/1'], optionalWritable: [], readonly: [], readonlyFolders: ['/home/u/p'], hiddenFolders: ['/home/u/p/.ssh'], hiddenFiles: [], readable: [], devices: [], keptInRun: [], network: false };
    const viewArgs = bwrapArgs(view);
    const find = (...triple: string[]): number => viewArgs.findIndex((_, i) => triple.every((t, j) => viewArgs[i + j] === t));
    expect(find('--ro-bind', '/home/u/p', '/home/u/p')).toBeGreaterThan(find('--tmpfs', '/tmp'));
    expect(find('--ro-bind', '/home/u/p', '/home/u/p')).toBeLessThan(find('--tmpfs', '/home/u/p/.ssh'));
  });

  it('makes only the slot and sandbox.writable writable; relative entries are the project\'s', () => {
    const writable = args.flatMap((arg, i) => (arg === '--bind' || arg === '--bind-try' ? [args[i + 1]] : []));
    expect(writable).toEqual(['/p/.crucible/slots/2', '/p/.venv', '/home/u/.cache/torch']);
  });

  it('is null when the sandbox is off', () => {
    expect(slotSandbox({ on: false, why: 'off', warning: null }, settings, { projectDir: '/p', slotDir: '/p/.crucible/slots/1', env })).toBeNull();
  });
});
