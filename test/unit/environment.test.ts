import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { experimentEnv, isSecretName } from '../../src/runner/environment.js';

describe('isSecretName', () => {
  it.each([
    'ANTHROPIC_API_KEY',
    'OPENAI_API_KEY',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'GITHUB_TOKEN',
    'GH_TOKEN',
    'HF_TOKEN',
    'MY_SERVICE_APIKEY',
    'DB_PASSWORD',
    'SMTP_PASSWD',
    'GCP_CREDENTIALS',
    'SSH_PRIVATE_KEY',
    'token',
    'Secret',
    'api_key',
  ])('treats %s as a secret', (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each(['PATH', 'HOME', 'TOKENIZERS_PARALLELISM', 'MAX_TOKENS', 'KEYBOARD', 'CUDA_VISIBLE_DEVICES', 'SECRETARY'])(
    'lets %s through',
    (name) => {
      expect(isSecretName(name)).toBe(false);
    },
  );
});

describe('experimentEnv', () => {
  const dirs: string[] = [];
  const makeProject = (withVenv: boolean): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crucible-env-'));
    dirs.push(dir);
    if (withVenv) mkdirSync(path.join(dir, '.venv', process.platform === 'win32' ? 'Scripts' : 'bin'), { recursive: true });
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const base = {
    PATH: '/usr/bin:/bin',
    HOME: '/home/me',
    ANTHROPIC_API_KEY: 'sk-ant',
    OPENAI_API_KEY: 'sk-oai',
    HF_TOKEN: 'hf',
    DB_PASSWORD: 'pw',
    TOKENIZERS_PARALLELISM: 'false',
  };

  it('drops secrets and keeps the rest', () => {
    const env = experimentEnv({ projectDir: makeProject(false), base, passEnv: [] });
    expect(env).toEqual({ PATH: '/usr/bin:/bin', HOME: '/home/me', TOKENIZERS_PARALLELISM: 'false' });
  });

  it('keeps a secret named in passEnv', () => {
    const env = experimentEnv({ projectDir: makeProject(false), base, passEnv: ['HF_TOKEN'] });
    expect(env['HF_TOKEN']).toBe('hf');
    expect(env['OPENAI_API_KEY']).toBeUndefined();
  });

  it('does not change the environment it was given', () => {
    const copy = { ...base };
    experimentEnv({ projectDir: makeProject(true), base: copy, passEnv: [], extra: { CRUCIBLE_TRIAL: '1' } });
    expect(copy).toEqual(base);
  });

  it.skipIf(process.platform === 'win32')('activates the project .venv', () => {
    const project = makeProject(true);
    const env = experimentEnv({
      projectDir: project,
      base: { ...base, PYTHONHOME: '/opt/python', VIRTUAL_ENV: '/elsewhere/.venv' },
      passEnv: [],
    });
    expect(env['PATH']).toBe(`${path.join(project, '.venv', 'bin')}:/usr/bin:/bin`);
    expect(env['VIRTUAL_ENV']).toBe(path.join(project, '.venv'));
    expect(env['PYTHONHOME']).toBeUndefined();
  });

  it('drops an inherited VIRTUAL_ENV when the project has no .venv', () => {
    const env = experimentEnv({
      projectDir: makeProject(false),
      base: { ...base, VIRTUAL_ENV: '/elsewhere/.venv', PYTHONHOME: '/opt/python' },
      passEnv: [],
    });
    expect(env['VIRTUAL_ENV']).toBeUndefined();
    expect(env['PATH']).toBe('/usr/bin:/bin');
    expect(env['PYTHONHOME']).toBe('/opt/python');
  });

  it('merges extra variables last', () => {
    const env = experimentEnv({
      projectDir: makeProject(false),
      base,
      passEnv: [],
      extra: { CRUCIBLE_TRIAL: '3', HOME: '/tmp/trial' },
    });
    expect(env['CRUCIBLE_TRIAL']).toBe('3');
    expect(env['HOME']).toBe('/tmp/trial');
  });
});
