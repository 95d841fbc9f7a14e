import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { spawnArgs } from '../../src/runner/spawn-args.js';
import { bwrapArgs, type SandboxView } from '../../src/sandbox/bwrap-args.js';
import { decideSandbox, SandboxUnavailableError, type SandboxSettings } from '../../src/sandbox/decide.js';
import { detectSandbox } from '../../src/sandbox/detect.js';
import { resolveConfigPath } from '../../src/sandbox/view.js';

const base = 'name: x\nfiles: { editable: [a.js] }\ncommands: { run: "true", eval: "true" }\nmetric: { name: m, direction: minimize }\n';
const defaults = { enabled: 'auto', network: false, agent_network: true, writable: [], agent_writable: [] };

describe('the sandbox key of the config', () => {
  it.each([
    ['(absent)', '', defaults],
    ['true', 'sandbox: true', { ...defaults, enabled: true }],
    ['false', 'sandbox: false', { ...defaults, enabled: false }],
    ['auto', 'sandbox: auto', defaults],
    ['a mapping', 'sandbox: { enabled: true, network: true, writable: ["~/.cache"] }', { ...defaults, enabled: true, network: true, writable: ['~/.cache'] }],
  ])('%s', (_label, line, expected) => {
    const result = parseConfigText(`${base}${line}\n`, 'config.yaml');
    expect(result.ok && result.config.sandbox).toEqual(expected);
  });

  it.each([
    ['sandbox: yes-please', /config.yaml:5: sandbox: must be true, false, auto, or a mapping/],
    ['sandbox: { enabled: maybe }', /config.yaml:5: sandbox: must be true, false, auto, or a mapping/],
  ])('refuses %s in one line', (line, message) => {
    const result = parseConfigText(`${base}${line}\n`, 'config.yaml');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toEqual([expect.stringMatching(message)]);
  });

  it('warns about an unknown key inside it', () => {
    const result = parseConfigText(`${base}sandbox: { netwrok: true }\n`, 'config.yaml');
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([expect.stringContaining('unknown key "sandbox.netwrok" is ignored')]);
  });
});

describe('decideSandbox', () => {
  const settings = (enabled: SandboxSettings['enabled']): SandboxSettings => ({ ...defaults, enabled }) as SandboxSettings;
  const works = () => ({ ok: true as const, bwrap: '/usr/bin/bwrap' });
  const broken = () => ({ ok: false as const, reason: 'bwrap is not installed' });

  it.each([
    ['auto, works', 'auto', works, { on: true, bwrap: '/usr/bin/bwrap', why: 'on (bubblewrap works here)' }],
    ['true, works', true, works, { on: true, bwrap: '/usr/bin/bwrap', why: 'on (required)' }],
    ['auto, broken', 'auto', broken, { on: false, why: 'off: bwrap is not installed', warning: expect.stringMatching(/^no sandbox: bwrap is not installed; .*sandbox: false silences this\)$/) }],
    ['false', false, broken, { on: false, why: 'off (sandbox: false in the config)', warning: null }],
  ] as const)('%s', (_label, enabled, detect, expected) => {
    expect(decideSandbox(settings(enabled), detect)).toEqual(expected);
  });

  it('refuses when required and unavailable', () => {
    expect(() => decideSandbox(settings(true), broken)).toThrow(SandboxUnavailableError);
    expect(() => decideSandbox(settings(true), broken)).toThrow('sandbox: true, but bwrap is not installed');
  });

  it('does not even look for bubblewrap when off', () => {
    let looked = false;
    decideSandbox(settings(false), () => {
      looked = true;
      return works();
    });
    expect(looked).toBe(false);
  });
});

describe('detectSandbox', () => {
  it('says in one line that bwrap is missing from PATH', () => {
    const support = detectSandbox({ PATH: '/nonexistent' });
    expect(support).toEqual({ ok: false, reason: process.platform === 'linux' ? 'bwrap is not installed (Debian, Ubuntu: apt-get install bubblewrap)' : expect.any(String) });
  });
});

describe('bwrapArgs', () => {
  const view: SandboxView = {
    writable: ['/p'],
    optionalWritable: ['/cache'],
    readonly: ['/p/.crucible', '/p/.git'],
    hiddenFolders: ['/repo'],
    hiddenFiles: ['/home/u/.netrc'],
    readable: ['/repo/prompt.md'],
    devices: ['/dev/nvidia0'],
    keptInRun: ['/run/systemd/resolve'],
    network: false,
  };
  const args = bwrapArgs(view);
  const at = (...triple: string[]): number => args.findIndex((_, i) => triple.every((t, j) => args[i + j] === t));

  it.each([
    ['the machine is read-only first', ['--ro-bind', '/', '/'], ['--bind', '/p', '/p']],
    ['a hidden folder is hidden before what is writable inside it', ['--tmpfs', '/repo'], ['--bind', '/p', '/p']],
    ['what stays read-only comes after the writable folder holding it', ['--bind', '/p', '/p'], ['--ro-bind-try', '/p/.crucible', '/p/.crucible']],
    ['a readable file comes back after its folder is hidden', ['--tmpfs', '/repo'], ['--ro-bind', '/repo/prompt.md', '/repo/prompt.md']],
    ['private /tmp before the writable folders (a project may live in /tmp)', ['--tmpfs', '/tmp'], ['--bind', '/p', '/p']],
    ['GPUs are passed through after the new /dev', ['--dev', '/dev'], ['--dev-bind-try', '/dev/nvidia0', '/dev/nvidia0']],
    ['the resolver comes back after /run is replaced', ['--tmpfs', '/run'], ['--ro-bind-try', '/run/systemd/resolve', '/run/systemd/resolve']],
  ])('%s', (_label, first, second) => {
    expect(at(...first)).toBeGreaterThanOrEqual(0);
    expect(at(...first)).toBeLessThan(at(...second));
  });

  it.each([
    ['no network', false, true],
    ['network', true, false],
  ])('%s', (_label, network, unshared) => {
    expect(bwrapArgs({ ...view, network }).includes('--unshare-net')).toBe(unshared);
  });

  it('always: its own PID namespace, no capabilities; never --new-session or --die-with-parent', () => {
    expect(args).toContain('--unshare-pid');
    expect(at('--cap-drop', 'ALL')).toBeGreaterThan(0);
    expect(args).not.toContain('--new-session');
    expect(args).not.toContain('--die-with-parent');
  });
});

describe('spawnArgs', () => {
  it('runs /bin/sh -c without a sandbox', () => {
    expect(spawnArgs({ command: 'echo hi', cwd: '/p' })).toEqual({ file: '/bin/sh', args: ['-c', 'echo hi'] });
  });

  it('wraps the shell in bubblewrap, in the working folder', () => {
    expect(spawnArgs({ command: 'echo hi', cwd: '/p', sandbox: { bwrap: '/usr/bin/bwrap', args: ['--ro-bind', '/', '/'] } })).toEqual({
      file: '/usr/bin/bwrap',
      args: ['--ro-bind', '/', '/', '--chdir', '/p', '--', '/bin/sh', '-c', 'echo hi'],
    });
  });
});

describe('resolveConfigPath', () => {
  it.each([
    ['~/.cache/torch', '/home/u/.cache/torch'],
    ['~', '/home/u'],
    ['../ctl', '/work/ctl'],
    ['/data/cache', '/data/cache'],
  ])('%s', (entry, expected) => {
    expect(resolveConfigPath(entry, '/work/project', '/home/u')).toBe(expected);
  });
});
