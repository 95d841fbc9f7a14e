/**
 * The rules of a good crucible project, as the model that writes one must follow them. They
 * come from the setup skill crucible ships (.claude/skills/crucible-setup/SKILL.md), the same
 * guide a person or an assistant follows by hand, so the two never drift apart.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root.js';

export function skillFile(): string {
  return path.join(packageRoot(), '.claude', 'skills', 'crucible-setup', 'SKILL.md');
}

// Enough to write a sound harness when the skill file is missing (a trimmed install).
const FALLBACK = `## The hidden evaluation harness
- List it under files.hidden: the agent can neither see nor change it.
- It generates or holds the test data itself, from a seed no file the agent can read shows.
- It runs the editable code isolated (a child process or worker), its output captured and not forwarded.
- It checks correctness before scoring: a wrong result, NaN or an exception scores the worst value.
- It enforces every architecture rule; a violation scores the worst value.
- It prints "name: value" lines, the metric first, and writes them to run.log at the very end.
## The baseline
A simple, correct, deliberately unoptimised implementation of the interface the harness calls.
## Agent instructions (.crucible/program.md)
The goal and metric with its direction, the contract of the editable code, hard rules (enforced
by the harness) and soft rules, and that the harness is hidden.`;

/**
 * The skill's guidance without its front matter and without its last step (verifying by hand:
 * the wizard runs `crucible validate` itself).
 */
export function readHarnessReference(file: string = skillFile()): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return FALLBACK;
  }
  return extractGuidance(text) || FALLBACK;
}

/** Pure: SKILL.md text → its sections up to, not including, "## 7.". */
export function extractGuidance(skill: string): string {
  const body = skill.replace(/^---\n[\s\S]*?\n---\n/, '');
  const verify = body.search(/^## 7\./m);
  return (verify >= 0 ? body.slice(0, verify) : body).trim();
}
