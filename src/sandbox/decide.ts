import type { Config } from '../config/schema.js';
import { CrucibleError } from '../errors.js';
import type { SandboxSupport } from './detect.js';

export type SandboxSettings = Config['sandbox'];

/** Whether this run's experiments and command agent are sandboxed, and why, in words. */
export type SandboxDecision =
  | { on: true; bwrap: string; why: string }
  | { on: false; why: string; /** One line for the console when the user did not opt out. */ warning: string | null };

/** `sandbox: true` on a machine where bubblewrap cannot start: the run refuses (exit code 4). */
export class SandboxUnavailableError extends CrucibleError {
  constructor(reason: string) {
    super('CRUCIBLE_PROJECT', `sandbox: true, but ${reason}`, {
      hints: ['Install bubblewrap (or allow unprivileged user namespaces), or set sandbox.enabled: auto to run unsandboxed with a warning.'],
    });
    this.name = 'SandboxUnavailableError';
  }
}

/**
 * Applies `sandbox.enabled` to what the machine supports. `detect` is called only when the answer
 * depends on it, so `sandbox: false` costs nothing. Throws SandboxUnavailableError when the
 * sandbox is required and cannot start.
 */
export function decideSandbox(settings: SandboxSettings, detect: () => SandboxSupport): SandboxDecision {
  if (settings.enabled === false) return { on: false, why: 'off (sandbox: false in the config)', warning: null };
  const support = detect();
  if (support.ok) return { on: true, bwrap: support.bwrap, why: `on (${settings.enabled === true ? 'required' : 'bubblewrap works here'})` };
  if (settings.enabled === true) throw new SandboxUnavailableError(support.reason);
  return {
    on: false,
    why: `off: ${support.reason}`,
    warning: `no sandbox: ${support.reason}; experiments and command agents run with all your user's access (sandbox: false silences this)`,
  };
}
