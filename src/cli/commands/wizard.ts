import path from 'node:path';
import { createInterface } from 'node:readline';
import { createTextModel, type TextModelType } from '../../agents/text-model.js';
import type { AgentUsage } from '../../agents/types.js';
import { configSchema, type Provider } from '../../config/schema.js';
import { ExitCode, ExitError, UsageError } from '../../errors.js';
import { formatCost } from '../../report/format.js';
import { renderAgentSection } from '../../project/wizard/generation.js';
import { askQuestions, defaultDecisions, type QuestionIo } from '../../project/wizard/questions.js';
import { runWizard, type WizardStep } from '../../project/wizard/run-wizard.js';
import { checkDestination } from '../../project/wizard/write-project.js';
import type { Check } from '../../project/validate-project.js';
import type { Output } from '../output.js';

export interface WizardCommandOptions {
  dest: string;
  describe: string | undefined;
  /** Take the recommended answer to every question without asking. */
  yes: boolean;
  agent: TextModelType | undefined;
  model: string | undefined;
  provider: Provider | undefined;
  baseUrl: string | undefined;
  /** stdin and stderr are a terminal (and --no-interactive was not given). */
  interactive: boolean;
}

export async function wizardCommand(options: WizardCommandOptions, out: Output): Promise<void> {
  checkDestination(options.dest);
  const ask = options.interactive && !options.yes;
  const io = ask ? openTerminal() : null;
  try {
    const description = options.describe?.trim() || (io ? ((await io.ask('What do you want to optimise? Describe the experiment: ')) ?? '').trim() : '');
    if (description === '') throw new UsageError('wizard needs a description: crucible wizard DEST --describe "what to optimise, and how it is measured"');

    const parsed = configSchema.shape.agent.safeParse({
      type: options.agent ?? 'claude-code',
      ...(options.model !== undefined ? { model: options.model } : {}),
      ...(options.provider !== undefined ? { provider: options.provider } : {}),
      ...(options.baseUrl !== undefined ? { base_url: options.baseUrl } : {}),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsageError(`--${issue?.path[0] === 'base_url' ? 'base-url' : String(issue?.path[0] ?? 'model')}: ${issue?.message ?? 'invalid'}`);
    }
    const agentConfig = parsed.data;
    const model = createTextModel(agentConfig.type === 'api' ? 'api' : 'claude-code', agentConfig, process.env);
    const steps: Record<WizardStep, string | null> = {
      detecting: 'Detecting the environment...',
      analyzing: `Analysing the description with ${model.label} (${model.type})...`,
      generating: 'Generating the project...',
      writing: null,
      validating: 'Checking the project (crucible validate)...',
    };

    const result = await runWizard(
      { dest: options.dest, description, agentSection: renderAgentSection(agentConfig) },
      {
        model,
        ask: async (questions) => {
          if (io) return askQuestions(questions, io);
          const decisions = defaultDecisions(questions);
          out.info(`Open questions, answered with the recommended choice (${options.yes ? '--yes' : 'no terminal'}):`);
          for (const decision of decisions) out.info(`  ${decision.question} ${decision.answer}`);
          return decisions;
        },
        onProgress: (step) => {
          const line = steps[step];
          if (line !== null) out.info(line);
        },
        onCheck: (check) => out.info(`  ${label(check, out)} ${check.name}: ${check.message}`),
      },
    );

    const shown = shownPath(result.dest);
    out.info('');
    out.info(`Created ${shown} (${result.files.length} files):`);
    for (const file of result.files) out.info(`  ${file}`);
    if (result.summary) out.info(`Summary: ${result.summary}`);
    out.info(`Model usage: ${describeUsage(result.usage)}`);
    if (!result.passed) {
      const failed = [...new Set(result.checks.filter((check) => check.status === 'fail').map((check) => check.name))];
      out.error(`the generated project does not pass validate (${failed.join(', ')}); its files are left in ${shown} for you to fix, then run: crucible validate`);
      throw new ExitError(ExitCode.failure);
    }
    out.info('Next steps:');
    out.info(`  cd ${shown.includes(' ') ? JSON.stringify(shown) : shown}`);
    out.info('  crucible run --tag run1');
  } finally {
    io?.close();
  }
}

/**
 * Questions on stderr, answers from stdin; an ended input answers null (the defaults). Lines
 * typed ahead are queued, not lost between two questions.
 */
function openTerminal(): QuestionIo & { close(): void } {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const typed: string[] = [];
  let waiting: ((line: string | null) => void) | null = null;
  let closed = false;
  const answer = (line: string | null): void => {
    const resolve = waiting;
    waiting = null;
    resolve?.(line);
  };
  rl.on('line', (line) => (waiting ? answer(line) : typed.push(line)));
  rl.on('close', () => {
    closed = true;
    answer(null);
  });
  return {
    ask: (prompt) => {
      rl.setPrompt(prompt);
      rl.prompt();
      if (typed.length > 0) return Promise.resolve(typed.shift() ?? null);
      if (closed) return Promise.resolve(null);
      return new Promise((resolve) => (waiting = resolve));
    },
    write: (line) => void process.stderr.write(`${line}\n`),
    close: () => rl.close(),
  };
}

function label(check: Check, out: Output): string {
  if (check.status === 'pass') return out.style.green('[PASS]');
  if (check.status === 'warn') return out.style.yellow('[WARN]');
  return out.style.red('[FAIL]');
}

function describeUsage(usage: AgentUsage): string {
  const tokens = `${usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens} tokens in, ${usage.outputTokens} out`;
  return usage.costUsd === null ? tokens : `${tokens}, ${formatCost(usage.costUsd)}`;
}

function shownPath(dest: string): string {
  return path.relative(process.cwd(), dest) || '.';
}
