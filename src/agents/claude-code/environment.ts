/**
 * The environment Claude Code runs in. The Agent SDK's `env` option replaces the environment
 * entirely, so it is built here from nothing: PATH, the variables that choose the endpoint, the
 * credentials and the model, and a configuration folder of its own for every session, so the
 * user's ~/.claude settings, hooks, MCP servers and plugins never reach a crucible trial.
 *
 * Where the credentials come from decides the rest:
 * - an API key or token in the environment (`key`): HOME and CLAUDE_CONFIG_DIR are both temporary;
 * - Bedrock or Vertex (`cloud`): the real HOME stays (their SDKs read ~/.aws, ~/.config/gcloud);
 * - no key, but a `claude` login (`login`): the real HOME stays (macOS finds the login in the
 *   user's keychain through it), CLAUDE_CONFIG_DIR is still temporary, and
 *   CLAUDE_SECURESTORAGE_CONFIG_DIR points Claude Code's credential store, and only that, at the
 *   user's own config folder, so the login is used, and a refreshed token is saved, where the
 *   user's `claude` keeps it. (A symbolic link to .credentials.json would not do: Claude Code
 *   opens it with O_NOFOLLOW.)
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type CredentialSource =
  | { kind: 'key'; variable: 'ANTHROPIC_API_KEY' | 'ANTHROPIC_AUTH_TOKEN' | 'CLAUDE_CODE_OAUTH_TOKEN' }
  | { kind: 'cloud'; variable: 'CLAUDE_CODE_USE_BEDROCK' | 'CLAUDE_CODE_USE_VERTEX' }
  | { kind: 'login'; configDir: string }
  | { kind: 'none' };

/** What Claude Code may see of the user's environment: endpoint, credentials, model, proxies. */
const PASSED_VARIABLES = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_CUSTOM_HEADERS',
  'ANTHROPIC_MODEL',
  'ANTHROPIC_DEFAULT_OPUS_MODEL',
  'ANTHROPIC_DEFAULT_SONNET_MODEL',
  'ANTHROPIC_DEFAULT_HAIKU_MODEL',
  'ANTHROPIC_SMALL_FAST_MODEL',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'AWS_REGION',
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_BEARER_TOKEN_BEDROCK',
  'ANTHROPIC_VERTEX_PROJECT_ID',
  'CLOUD_ML_REGION',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'CLAUDE_CODE_MAX_RETRIES',
  'API_TIMEOUT_MS',
];

const KEY_VARIABLES = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'] as const;
const CLOUD_VARIABLES = ['CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX'] as const;

/**
 * Claude Code's own retries: a few, so a passing overload does not throw away a trial's work,
 * and few enough that crucible's backoff is the one that counts (the default retries a 401 for
 * minutes). The user's CLAUDE_CODE_MAX_RETRIES wins.
 */
const DEFAULT_MAX_RETRIES = '2';

export const CREDENTIALS_HINT =
  'set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN), or log in with the Claude Code CLI (`claude`, then /login), or set CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`; or use agent.type: api';

/** Which credentials Claude Code will use, by the order it prefers them. */
export function findCredentials(env: NodeJS.ProcessEnv): CredentialSource {
  for (const variable of KEY_VARIABLES) if (nonEmpty(env[variable])) return { kind: 'key', variable };
  for (const variable of CLOUD_VARIABLES) if (isTruthy(env[variable])) return { kind: 'cloud', variable };
  const configDir = findLogin(env);
  return configDir === null ? { kind: 'none' } : { kind: 'login', configDir };
}

/**
 * The user's Claude Code config folder when it holds a login: .credentials.json (Linux,
 * Windows), or an `oauthAccount` in the global config file (macOS keeps the token itself in the
 * keychain, where it cannot be checked without asking the user).
 */
export function findLogin(env: NodeJS.ProcessEnv): string | null {
  const home = nonEmpty(env['HOME']) ? env['HOME']! : os.homedir();
  const custom = nonEmpty(env['CLAUDE_CONFIG_DIR']) ? env['CLAUDE_CONFIG_DIR']! : null;
  const configDir = custom ?? path.join(home, '.claude');
  if (existsSync(path.join(configDir, '.credentials.json'))) return configDir;
  const globalConfig = custom ? path.join(custom, '.claude.json') : path.join(home, '.claude.json');
  try {
    const parsed = JSON.parse(readFileSync(globalConfig, 'utf8')) as { oauthAccount?: unknown };
    if (parsed.oauthAccount) return configDir;
  } catch {
    // no config file, or not JSON: no login there
  }
  return null;
}

/**
 * The whole environment of one Claude Code session. `sessionDir` is a fresh temporary folder the
 * caller removes afterwards; the session's HOME (for `key` credentials), config and temp folder
 * (`tmp`, which the caller creates) live in it.
 */
export function buildSessionEnv(userEnv: NodeJS.ProcessEnv, credentials: CredentialSource, sessionDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', ...PASSED_VARIABLES]) {
    const value = userEnv[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  const realHome = nonEmpty(userEnv['HOME']) ? userEnv['HOME']! : os.homedir();
  env['HOME'] = credentials.kind === 'key' ? sessionDir : realHome;
  env['CLAUDE_CONFIG_DIR'] = path.join(sessionDir, 'claude-config');
  // Claude Code leaves folders in its temp dir (claude-<uid>/, cc-socks/): they go with the session.
  env['TMPDIR'] = path.join(sessionDir, 'tmp');
  if (credentials.kind === 'login') {
    // "" means Claude Code's default store (~/.claude, and the keychain entry without a suffix),
    // which is where `claude` keeps a login when CLAUDE_CONFIG_DIR is not set.
    env['CLAUDE_SECURESTORAGE_CONFIG_DIR'] = nonEmpty(userEnv['CLAUDE_CONFIG_DIR']) ? userEnv['CLAUDE_CONFIG_DIR']! : '';
  }
  env['CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC'] = '1';
  env['CLAUDE_AGENT_SDK_CLIENT_APP'] = 'autocrucible';
  env['CLAUDE_CODE_MAX_RETRIES'] ??= DEFAULT_MAX_RETRIES;
  return env;
}

/** The endpoint Claude Code calls: ANTHROPIC_BASE_URL or Anthropic's, without a trailing "/". */
export function endpointOf(env: NodeJS.ProcessEnv): string {
  const base = nonEmpty(env['ANTHROPIC_BASE_URL']) ? env['ANTHROPIC_BASE_URL']! : 'https://api.anthropic.com';
  return base.replace(/\/+$/, '');
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && !['', '0', 'false', 'no'].includes(value.trim().toLowerCase());
}
