import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTinyProject, killLeftovers, runCli, type TinyProject } from '../helpers/project.js';

/**
 * Issue 7, class 8: an experiment sees only variables known to be harmless and those the config
 * lists; credentials under any other name stay with crucible, whatever they are called.
 */

// Credential-shaped variables that a block-list of secret-looking names let through.
const SECRETS: Record<string, string> = {
  PGPASSWORD: 'pg-secret',
  MYSQL_PWD: 'mysql-secret',
  DATABASE_URL: 'postgres://app:db-secret@db.internal:5432/prod',
  SENTRY_DSN: 'https://dsn-secret@o1.ingest.sentry.io/2',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/webhook-secret',
  HTTPS_PROXY: 'http://me:proxy-secret@proxy.internal:3128',
  GH_PAT: 'ghp_pat-secret',
  STRIPE_KEY: 'sk_live_stripe-secret',
  ANTHROPIC_API_KEY: 'sk-ant-secret',
  NPM_CONFIG__AUTHTOKEN: 'npm-secret',
  SSH_AUTH_SOCK: '/tmp/ssh-agent.sock',
};

// What an experiment legitimately needs, and what the config passes on purpose.
const KEPT: Record<string, string> = {
  LANG: 'C.UTF-8',
  TZ: 'UTC',
  CUDA_VISIBLE_DEVICES: '1',
  OMP_NUM_THREADS: '4',
  SLURM_JOB_ID: '77',
  HTTP_PROXY: 'http://proxy.internal:3128',
  MY_DATASET_DIR: '/data/sets',
  MY_DATASET_SPLIT: 'val',
  WANDB_API_KEY: 'listed-on-purpose',
};

describe('the environment of a real experiment', () => {
  const projects: TinyProject[] = [];
  afterEach(() => {
    for (const p of projects.splice(0)) {
      killLeftovers(p);
      p.cleanup();
    }
  });

  it('holds no credential the config does not list, and what it lists', async () => {
    const project = createTinyProject();
    projects.push(project);
    const config = path.join(project.dir, '.crucible', 'config.yaml');
    writeFileSync(
      config,
      readFileSync(config, 'utf8')
        .replace('  run: node evaluate.js > run.log 2>&1', '  run: env > ../ctl/env.txt; node evaluate.js > run.log 2>&1')
        .replace('  eval: cat run.log', '  eval: cat run.log\n  pass_env: [WANDB_API_KEY, "MY_DATASET_*"]'),
    );
    const result = await runCli(project, ['run', '--tag', 't', '-n', '1'], { env: { ...SECRETS, ...KEPT } });
    expect(result.code, result.stderr).toBe(0);

    const seen = readFileSync(path.join(project.ctl, 'env.txt'), 'utf8');
    for (const value of Object.values(SECRETS)) expect(seen).not.toContain(value);
    for (const name of Object.keys(SECRETS)) expect(seen).not.toMatch(new RegExp(`^${name}=`, 'm'));
    for (const [name, value] of Object.entries(KEPT)) expect(seen).toContain(`${name}=${value}\n`);
    expect(seen).toMatch(/^CRUCIBLE_TRIAL=/m);
  });
});
