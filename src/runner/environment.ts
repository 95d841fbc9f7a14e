import { statSync } from 'node:fs';
import path from 'node:path';

// Names that experiments never need and that would leak credentials into user code and logs.
const knownSecrets = new Set([
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'OPENAI_API_KEY',
  'OPENAI_ORG_ID',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'AZURE_OPENAI_API_KEY',
  'MISTRAL_API_KEY',
  'GROQ_API_KEY',
  'DEEPSEEK_API_KEY',
  'OPENROUTER_API_KEY',
  'XAI_API_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITLAB_TOKEN',
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
  'NPM_TOKEN',
  'WANDB_API_KEY',
]);

const secretPattern = /(^|_)(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|PRIVATE_KEY)(_|$)/i;

/** True when an environment variable's name says it carries a credential. */
export function isSecretName(name: string): boolean {
  return knownSecrets.has(name.toUpperCase()) || secretPattern.test(name);
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

// Windows environments are case-insensitive and usually spell it "Path".
function pathKeyOf(env: NodeJS.ProcessEnv): string {
  if (process.platform !== 'win32') return 'PATH';
  return Object.keys(env).find((key) => key.toUpperCase() === 'PATH') ?? 'Path';
}

/**
 * The complete environment of an experiment: crucible's own minus secrets (unless passed on
 * purpose), with the project's `.venv` activated, plus `extra` (CRUCIBLE_TRIAL and the like).
 */
export function experimentEnv(opts: {
  projectDir: string;
  base: NodeJS.ProcessEnv;
  passEnv: readonly string[];
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  const passed = new Set(opts.passEnv);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(opts.base)) {
    if (value === undefined) continue;
    if (isSecretName(name) && !passed.has(name)) continue;
    env[name] = value;
  }

  const venv = path.resolve(opts.projectDir, '.venv');
  const venvBin = path.join(venv, process.platform === 'win32' ? 'Scripts' : 'bin');
  if (isDirectory(venvBin)) {
    const pathKey = pathKeyOf(env);
    const current = env[pathKey];
    env[pathKey] = current === undefined || current === '' ? venvBin : `${venvBin}${path.delimiter}${current}`;
    env['VIRTUAL_ENV'] = venv;
    // PYTHONHOME would point the venv's interpreter at another installation's standard library.
    delete env['PYTHONHOME'];
  } else {
    // A venv active in the shell that started crucible belongs to crucible's user, not to the project.
    delete env['VIRTUAL_ENV'];
  }

  return { ...env, ...opts.extra };
}
