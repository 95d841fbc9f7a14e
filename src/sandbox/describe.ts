import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxSettings } from './decide.js';
import { resolveConfigPath } from './view.js';

/** One line each for `crucible validate`: what a sandboxed command may do. */
export interface SandboxLine {
  label: string;
  text: string;
  /** A configured path that does not exist (it stays out of the sandbox until it does). */
  missing: string[];
}

function shown(p: string, projectDir: string, home: string): string {
  if (p === projectDir) return 'the project folder';
  if (p.startsWith(`${projectDir}${path.sep}`)) return path.relative(projectDir, p);
  if (p.startsWith(`${home}${path.sep}`)) return `~/${path.relative(home, p)}`;
  return p;
}

function extraPaths(entries: readonly string[], projectDir: string, home: string): { text: string; missing: string[] } {
  const resolved = entries.map((entry) => resolveConfigPath(entry, projectDir, home));
  return {
    text: resolved.map((p) => shown(p, projectDir, home)).join(', '),
    missing: resolved.filter((p) => !existsSync(p)).map((p) => shown(p, projectDir, home)),
  };
}

export function describeSandbox(settings: SandboxSettings, opts: { projectDir: string; env: NodeJS.ProcessEnv; commandAgent: boolean }): SandboxLine[] {
  const home = opts.env['HOME'] || os.homedir();
  const writable = extraPaths(settings.writable, opts.projectDir, home);
  const lines: SandboxLine[] = [
    {
      label: 'Sandbox (experiments)',
      text:
        `network ${settings.network ? 'allowed' : 'off'}; writes only the project folder` +
        `${writable.text === '' ? '' : `, ${writable.text}`} (never .crucible/, .git, results.tsv) and a private /tmp; ` +
        'credential files in ~ hidden; own PID namespace: no other process visible, nothing outlives the command',
      missing: writable.missing,
    },
  ];
  if (opts.commandAgent) {
    const agentWritable = extraPaths(settings.agent_writable, opts.projectDir, home);
    lines.push({
      label: 'Sandbox (command agent)',
      text:
        `network ${settings.agent_network ? 'allowed' : 'off'}; writes only its workspace, its git folder` +
        `${agentWritable.text === '' ? '' : `, ${agentWritable.text}`} and a private /tmp; the project's repository is absent; home folder read-only`,
      missing: agentWritable.missing,
    });
  }
  return lines;
}
