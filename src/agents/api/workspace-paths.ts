/**
 * Where a path a model names really is, and what the access policy says about it. A path may be
 * relative to the workspace or absolute, and may use "..", as long as it resolves inside the
 * workspace; symbolic links are followed (real paths), so none can lead outside it or around
 * the policy. Denials are ToolDenied errors whose message the model can act on.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Access } from '../../workspace/access-policy.js';
import type { AgentWorkspace } from '../types.js';

/** A refusal the model is told about (as its tool's result); never a crucible failure. */
export class ToolDenied extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolDenied';
  }
}

export interface WorkspacePath {
  absolute: string;
  /** Relative to the workspace root, with "/" ("." for the root itself): the name the model sees. */
  relative: string;
  /** The stricter of what the policy says about the name given and the file it leads to. */
  access: Access;
}

export interface PathGuard {
  readonly root: string;
  resolve(input: string): WorkspacePath;
  /** For reading: refuses hidden and protected paths. */
  readable(input: string): WorkspacePath;
  /** For writing: refuses anything the policy does not list as editable. */
  writable(input: string): WorkspacePath;
  /** The policy's verdict on a workspace-relative path, for walking folders. */
  classify(relative: string): Access;
}

const STRICTNESS: Record<Access, number> = { editable: 0, readonly: 1, unlisted: 2, protected: 3, hidden: 4 };

export function createPathGuard(workspace: AgentWorkspace): PathGuard {
  const root = realpathSync(workspace.root);
  const lexicalRoot = path.resolve(workspace.root);
  const { policy } = workspace;

  const resolve = (input: string): WorkspacePath => {
    const trimmed = input.trim();
    if (trimmed === '') throw new ToolDenied('path is empty');
    const absolute = path.isAbsolute(trimmed) ? path.resolve(trimmed) : path.resolve(root, trimmed);
    const named = relativeInside(lexicalRoot, absolute) ?? relativeInside(root, absolute);
    if (named === null) throw new ToolDenied(`${trimmed} is outside the workspace: use paths relative to the project folder`);
    const real = relativeInside(root, realPathOf(absolute));
    if (real === null) throw new ToolDenied(`${named} leads outside the workspace (a symbolic link): you cannot use it`);
    const accesses = [policy.classify(named), policy.classify(real)];
    const access = accesses.reduce((a, b) => (STRICTNESS[b] > STRICTNESS[a] ? b : a));
    return { absolute: path.join(root, real), relative: named === '' ? '.' : named, access };
  };

  return {
    root,
    resolve,
    readable(input) {
      const target = resolve(input);
      if (target.access === 'hidden') throw new ToolDenied(`${target.relative} is hidden: you cannot read or change it`);
      if (target.access === 'protected') throw new ToolDenied(`${target.relative} belongs to crucible: you cannot read or change it`);
      return target;
    },
    writable(input) {
      const target = this.readable(input);
      if (target.access !== 'editable') {
        throw new ToolDenied(`${target.relative} is read-only (editable files: ${policy.editable.join(', ')})`);
      }
      return target;
    },
    classify: (relative) => policy.classify(relative),
  };
}

/** `target` relative to `base` with "/" separators, "" for base itself, null when outside it. */
function relativeInside(base: string, target: string): string | null {
  const relative = path.relative(base, target);
  if (relative === '') return '';
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return null;
  return relative.split(path.sep).join('/');
}

/**
 * The real path of `target`, or of its nearest existing ancestor plus the rest (for new files).
 * A broken symbolic link on the way is refused: writing through it would create its target,
 * wherever that is.
 */
function realPathOf(target: string): string {
  const missing: string[] = [];
  let current = target;
  for (;;) {
    try {
      return path.join(realpathSync(current), ...missing.reverse());
    } catch {
      if (isSymlink(current)) throw new ToolDenied(`${path.basename(current)} is a broken symbolic link: you cannot use it`);
      const parent = path.dirname(current);
      if (parent === current) return target;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
