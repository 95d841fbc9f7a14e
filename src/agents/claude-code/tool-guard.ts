/**
 * The access policy, applied to every call of Claude Code's file tools before it runs. A path may
 * be absolute or relative to the workspace and may use "..", as long as it resolves inside the
 * workspace; symbolic links are followed (real paths), so none leads outside it. A refusal is a
 * message for the model, which sees it as the tool's error and can choose another move.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Access } from '../../workspace/access-policy.js';
import type { AgentWorkspace } from '../types.js';

/** The only tools the model is given: no shell, no web, no subagents. */
export const CLAUDE_CODE_TOOLS = ['Read', 'Edit', 'Write', 'Glob', 'Grep'];

export type ToolVerdict = { allow: true } | { allow: false; message: string };

export type ToolGuard = (toolName: string, input: Record<string, unknown>) => ToolVerdict;

const STRICTNESS: Record<Access, number> = { editable: 0, readonly: 1, unlisted: 2, protected: 3, hidden: 4 };

export function createToolGuard(workspace: AgentWorkspace): ToolGuard {
  const root = realpathSync(workspace.root);
  const lexicalRoot = path.resolve(workspace.root);
  const { policy } = workspace;

  /** The name the model sees (relative, "." for the root) and the strictest access of name and real file. */
  const locate = (input: string): { relative: string; access: Access } | { message: string } => {
    const absolute = path.resolve(root, input);
    const named = relativeInside(lexicalRoot, absolute) ?? relativeInside(root, absolute);
    if (named === null) return { message: `${input} is outside the workspace: use paths inside ${root} (relative paths are fine)` };
    const realAbsolute = realPathOf(absolute);
    const real = realAbsolute === null ? null : relativeInside(root, realAbsolute);
    if (real === null) return { message: `${named || '.'} leads outside the workspace (a symbolic link): you cannot use it` };
    const access = [policy.classify(named), policy.classify(real)].reduce((a, b) => (STRICTNESS[b] > STRICTNESS[a] ? b : a));
    return { relative: named === '' ? '.' : named, access };
  };

  const check = (input: unknown, write: boolean, what: string): ToolVerdict => {
    if (typeof input !== 'string' || input.trim() === '') return deny(`${what} is missing`);
    const target = locate(input.trim());
    if ('message' in target) return deny(target.message);
    if (target.access === 'hidden') return deny(`${target.relative} is hidden: you cannot read or change it`);
    if (target.access === 'protected') return deny(`${target.relative} belongs to crucible: you cannot read or change it`);
    if (write && target.access !== 'editable') return deny(`${target.relative} is read-only (editable files: ${policy.editable.join(', ')})`);
    return { allow: true };
  };

  return (toolName, input) => {
    switch (toolName) {
      case 'Read':
        return check(input['file_path'], false, 'file_path');
      case 'Edit':
      case 'Write':
        return check(input['file_path'], true, 'file_path');
      case 'Glob': {
        const pattern = input['pattern'];
        if (typeof pattern !== 'string') return deny('pattern is missing');
        if (path.isAbsolute(pattern) || pattern.startsWith('~') || pattern.split(/[\\/]/).includes('..')) {
          return deny(`the pattern ${pattern} reaches outside the workspace: give a pattern relative to it (and a folder inside it as path)`);
        }
        return check(input['path'] ?? '.', false, 'path');
      }
      case 'Grep':
        // Without a path Grep searches the workspace root, where hidden files do not exist.
        return check(input['path'] ?? '.', false, 'path');
      default:
        return deny(`${toolName} is not available here: use ${CLAUDE_CODE_TOOLS.join(', ')}`);
    }
  };
}

function deny(message: string): ToolVerdict {
  return { allow: false, message };
}

/** `target` relative to `base` with "/" separators, "" for base itself, null when outside it. */
function relativeInside(base: string, target: string): string | null {
  const relative = path.relative(base, target);
  if (relative === '') return '';
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return null;
  return relative.split(path.sep).join('/');
}

/**
 * The real path of `file`, or of its nearest existing ancestor when it does not exist yet (a new
 * file); null for a dangling symbolic link, whose target could be anywhere.
 */
function realPathOf(file: string): string | null {
  let existing = file;
  const rest: string[] = [];
  for (;;) {
    try {
      lstatSync(existing);
      break;
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return file;
      rest.unshift(path.basename(existing));
      existing = parent;
    }
  }
  try {
    return path.join(realpathSync(existing), ...rest);
  } catch {
    return null;
  }
}
