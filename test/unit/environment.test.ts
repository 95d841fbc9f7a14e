import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { experimentEnv, hasCredentialUrl, isSecretName } from '../../src/runner/environment.js';

describe('isSecretName', () => {
  it.each([
    'ANTHROPIC_API_KEY',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'MY_SERVICE_APIKEY',
    'DB_PASSWORD',
    'SMTP_PASSWD',
    'MYSQL_PWD',
    'GCP_CREDENTIALS',
    'SSH_PRIVATE_KEY',
    'STRIPE_KEY',
    'SENTRY_DSN',
    'SLACK_WEBHOOK_URL',
    'GH_PAT',
    'BASIC_AUTH',
    'SLURM_JOB_TOKEN',
    'token',
    'Secret',
    'api_key',
  ])('treats %s as a secret', (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each(['PATH', 'HOME', 'TOKENIZERS_PARALLELISM', 'MAX_TOKENS', 'KEYBOARD', 'CUDA_VISIBLE_DEVICES', 'SECRETARY', 'LD_LIBRARY_PATH', 'XDG_SESSION_TYPE'])(
    'lets %s through',
    (name) => {
      expect(isSecretName(name)).toBe(false);
    },
  );
});

describe('hasCredentialUrl', () => {
  it.each([
    ['http://me:pw@proxy:3128', true],
    ['postgres://app:secret@db/prod', true],
    ['https://ghp_token@github.com/x.git', true],
    ['https://dsn-key@o1.ingest.sentry.io/2', true],
    ['a https://u:p@h b', true],
    ['http://proxy.internal:3128', false],
    ['https://example.com/path?mail=a@b.c', false],
    ['https://example.com#me@x', false],
    ['user@example.com', false],
    ['/usr/bin:/bin', false],
    ['', false],
  ])('%j: %s', (value, expected) => {
    expect(hasCredentialUrl(value)).toBe(expected);
  });

  it('takes linear time on a long value', () => {
    const started = performance.now();
    expect(hasCredentialUrl('a'.repeat(1 << 20) + '://'.repeat(1 << 18))).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('which variables an experiment inherits', () => {
  const projectDir = tmpdir(); // no .venv there
  const pass = (name: string, value: string, passEnv: string[] = []): boolean =>
    experimentEnv({ projectDir, base: { [name]: value }, passEnv })[name] === value;

  it.each([
    ['PATH', '/usr/bin:/bin'],
    ['HOME', '/home/me'],
    ['USER', 'me'],
    ['LANG', 'C.UTF-8'],
    ['LC_ALL', 'C.UTF-8'],
    ['TERM', 'xterm-256color'],
    ['TZ', 'UTC'],
    ['TMPDIR', '/scratch/tmp'],
    ['SHELL', '/bin/bash'],
    ['DISPLAY', ':0'],
    ['XDG_CACHE_HOME', '/home/me/.cache'],
    ['CUDA_VISIBLE_DEVICES', '0,1'],
    ['NVIDIA_VISIBLE_DEVICES', 'all'],
    ['HIP_VISIBLE_DEVICES', '0'],
    ['OMP_NUM_THREADS', '8'],
    ['MKL_NUM_THREADS', '8'],
    ['OPENBLAS_NUM_THREADS', '8'],
    ['PYTHONPATH', '/opt/lib'],
    ['PYTHONHASHSEED', '0'],
    ['CONDA_PREFIX', '/opt/conda/envs/ml'],
    ['NODE_OPTIONS', '--max-old-space-size=4096'],
    ['LD_LIBRARY_PATH', '/usr/local/cuda/lib64'],
    ['SLURM_JOB_ID', '12345'],
    ['SLURM_STEP_GPUS', '0'],
    ['HF_HOME', '/data/hf'],
    ['TOKENIZERS_PARALLELISM', 'false'],
    ['HTTPS_PROXY', 'http://proxy.internal:3128'],
    ['no_proxy', 'localhost,127.0.0.1'],
    ['GIT_AUTHOR_NAME', 'Me'],
  ])('passes %s', (name, value) => {
    expect(pass(name, value)).toBe(true);
  });

  it.each([
    // Credentials under names no block-list foresaw.
    ['PGPASSWORD', 'pw'],
    ['MYSQL_PWD', 'pw'],
    ['DATABASE_URL', 'postgres://app:pw@db/prod'],
    ['REDIS_URL', 'redis://localhost:6379'],
    ['SENTRY_DSN', 'https://key@sentry.io/1'],
    ['SLACK_WEBHOOK_URL', 'https://hooks.slack.com/services/T/B/x'],
    ['GH_PAT', 'ghp_x'],
    ['STRIPE_KEY', 'sk_live_x'],
    ['ANTHROPIC_API_KEY', 'sk-ant'],
    ['OPENAI_API_KEY', 'sk-oai'],
    ['AWS_ACCESS_KEY_ID', 'AKIA'],
    ['NVIDIA_API_KEY', 'nvapi-x'],
    ['npm_config__authToken', 'x'],
    ['NODE_AUTH_TOKEN', 'x'],
    ['GIT_CONFIG_PARAMETERS', "'http.extraheader=Authorization: Bearer x'"],
    // Sockets and files that stand for a credential.
    ['SSH_AUTH_SOCK', '/tmp/ssh-x/agent.1'],
    ['DBUS_SESSION_BUS_ADDRESS', 'unix:path=/run/user/1000/bus'],
    ['KRB5CCNAME', 'FILE:/tmp/krb5cc_1000'],
    ['XAUTHORITY', '/home/me/.Xauthority'],
    // Harmless names, credential values.
    ['HTTPS_PROXY', 'http://me:pw@proxy.internal:3128'],
    ['http_proxy', 'http://me:pw@proxy.internal:3128'],
    // Secret-looking names inside harmless families.
    ['SLURM_JOB_TOKEN', 'x'],
    ['CONDA_TOKEN', 'x'],
    ['CUDA_API_KEY', 'x'],
    // Whatever nobody vouched for, and crucible's own switches.
    ['MY_APP_SETTING', 'x'],
    ['LD_PRELOAD', '/tmp/evil.so'],
    ['CRUCIBLE_FAULT_KILL_AFTER', 'decide:1'],
  ])('keeps %s out', (name, value) => {
    expect(pass(name, value)).toBe(false);
  });

  it.each([
    ['DATABASE_URL', 'postgres://app:pw@db/prod', ['DATABASE_URL']],
    ['HTTPS_PROXY', 'http://me:pw@proxy:3128', ['HTTPS_PROXY']],
    ['WANDB_API_KEY', 'x', ['WANDB_API_KEY']],
    ['MY_APP_SETTING', 'x', ['MY_APP_*']],
    ['MY_APP_TOKEN', 'x', ['MY_APP_*']],
    ['ANYTHING', 'x', ['*']],
  ])('passes %s when commands.pass_env lists it', (name, value, passEnv) => {
    expect(pass(name, value, passEnv)).toBe(true);
  });

  it.each([
    ['MY_APPLE', ['MY_APP_*']],
    ['WANDB_API_KEY_2', ['WANDB_API_KEY']],
    ['OTHER', ['MY_*']],
  ])('keeps %s out when commands.pass_env lists only %j', (name, passEnv) => {
    expect(pass(name, 'x', passEnv)).toBe(false);
  });
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

  it('keeps only the harmless variables', () => {
    const env = experimentEnv({ projectDir: makeProject(false), base: { ...base, MY_APP_SETTING: 'x' }, passEnv: [] });
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
