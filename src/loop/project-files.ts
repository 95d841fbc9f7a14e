import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { DEFAULT_SYSTEM_PROMPT } from '../prompt/system-prompt.js';

/** A text file the config names: looked up in `.crucible/` first, then at the project root. */
export function findProjectFile(projectDir: string, name: string): string | null {
  for (const candidate of [path.join(projectDir, '.crucible', name), path.join(projectDir, name)]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** The agent's instructions (program.md), or null with a warning when the file is missing or empty. */
export function readInstructions(projectDir: string, config: Config): { text: string | null; warning: string | null } {
  const file = findProjectFile(projectDir, config.agent.instructions);
  if (!file) return { text: null, warning: `instructions file ${config.agent.instructions} not found in .crucible/ or the project root; the agent gets no instructions` };
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') return { text: null, warning: `instructions file ${path.relative(projectDir, file)} is empty` };
  return { text, warning: null };
}

/**
 * `agent.system_prompt`: text when it spans lines or is long (a file name never does), else a
 * file name; missing or unset means the built-in prompt.
 */
export function readSystemPrompt(projectDir: string, config: Config): { text: string; warning: string | null } {
  const value = config.agent.system_prompt;
  if (value === null) return { text: DEFAULT_SYSTEM_PROMPT, warning: null };
  if (value.includes('\n') || value.length > 200) return { text: value.trim(), warning: null };
  const file = findProjectFile(projectDir, value);
  if (!file) return { text: DEFAULT_SYSTEM_PROMPT, warning: `agent.system_prompt file ${value} not found; using the built-in system prompt` };
  return { text: readFileSync(file, 'utf8').trim() || DEFAULT_SYSTEM_PROMPT, warning: null };
}

/**
 * The files besides the hidden and read-only ones that decide how a trial is judged or what the
 * agent is told: the config, the instructions and a system prompt file. Project-relative; a
 * missing one is named where it would be looked for first, so that planting it counts too.
 */
export function evaluationInputs(projectDir: string, config: Config): string[] {
  const names = [config.agent.instructions];
  const systemPrompt = config.agent.system_prompt;
  if (systemPrompt !== null && !systemPrompt.includes('\n') && systemPrompt.length <= 200) names.push(systemPrompt);
  const files = names.map((name) => path.relative(projectDir, findProjectFile(projectDir, name) ?? path.join(projectDir, '.crucible', name)));
  return [...new Set([path.join('.crucible', 'config.yaml'), ...files])].filter((file) => !file.startsWith('..'));
}
