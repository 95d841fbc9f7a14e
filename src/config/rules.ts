import path from 'node:path';
import type { Config } from './schema.js';

export interface RuleProblem {
  severity: 'error' | 'warning';
  path: (string | number)[];
  message: string;
}

type Rule = (config: Config, report: (problem: RuleProblem) => void) => void;

/** Paths are relative to the project root and stay inside it. */
const pathsStayInside: Rule = (config, report) => {
  for (const kind of ['editable', 'readonly', 'hidden'] as const) {
    config.files[kind].forEach((entry, index) => {
      const normal = entry.replace(/\\/g, '/');
      if (path.isAbsolute(normal) || /^[A-Za-z]:/.test(normal)) {
        report({ severity: 'error', path: ['files', kind, index], message: `"${entry}" must be relative to the project root` });
      } else if (normal.split('/').includes('..')) {
        report({ severity: 'error', path: ['files', kind, index], message: `"${entry}" must not leave the project folder` });
      } else if (kind === 'editable' && (normal === '.crucible' || normal.startsWith('.crucible/') || normal.startsWith('./.crucible/'))) {
        report({ severity: 'error', path: ['files', kind, index], message: `"${entry}" is crucible's own folder and cannot be editable` });
      } else if (normal === '.git' || normal.startsWith('.git/')) {
        report({ severity: 'error', path: ['files', kind, index], message: `"${entry}" is git's folder` });
      }
    });
  }
};

/**
 * A file belongs to one category only: editable, readonly or hidden. Listed both readonly and
 * hidden, it is hidden (the stricter of the two, as the reference tool treats it), with a warning.
 */
const categoriesDisjoint: Rule = (config, report) => {
  const seen = new Map<string, string>();
  for (const kind of ['editable', 'readonly', 'hidden'] as const) {
    config.files[kind].forEach((entry, index) => {
      const key = entryKey(entry);
      const earlier = seen.get(key);
      if (earlier === 'readonly' && kind === 'hidden') {
        report({ severity: 'warning', path: ['files', kind, index], message: `"${entry}" is also listed in files.readonly; it is hidden (the agent cannot read it)` });
      } else if (earlier !== undefined && earlier !== kind) {
        report({ severity: 'error', path: ['files', kind, index], message: `"${entry}" is also listed in files.${earlier}` });
      }
      seen.set(key, kind);
    });
  }
};

function entryKey(entry: string): string {
  return entry.replace(/^\.\//, '');
}

/** The config as it is used: an entry both readonly and hidden stays hidden only (see categoriesDisjoint). */
export function resolveFileOverlaps(config: Config): Config {
  const hidden = new Set(config.files.hidden.map(entryKey));
  const readonly = config.files.readonly.filter((entry) => !hidden.has(entryKey(entry)));
  return readonly.length === config.files.readonly.length ? config : { ...config, files: { ...config.files, readonly } };
}

const commandAgentHasCommand: Rule = (config, report) => {
  if (config.agent.type === 'command' && config.agent.command === null) {
    report({ severity: 'error', path: ['agent', 'command'], message: 'required when agent.type is "command" (the shell command that edits the code)' });
  }
};

const rules: Rule[] = [pathsStayInside, categoriesDisjoint, commandAgentHasCommand];

export function checkConfigRules(config: Config): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const rule of rules) rule(config, (problem) => problems.push(problem));
  return problems;
}
