/**
 * The clarifying questions: how one is shown, how an answer is read, and the loop that asks
 * them through whatever input and output the caller gives (the CLI: stdin and stderr).
 */
import type { Question } from './analysis.js';

/** The user's answer to each question, by its `param`: the chosen label. */
export interface Decision {
  param: string;
  question: string;
  answer: string;
}

export interface QuestionIo {
  /** Shows `prompt` and resolves with the line typed, or null when input has ended. */
  ask(prompt: string): Promise<string | null>;
  write(line: string): void;
}

/** How many times a bad answer is asked again before the default is taken. */
const MAX_TRIES = 3;

/** The lines of one question: the question, then its numbered choices with their explanations. */
export function renderQuestion(question: Question, index: number, total: number): string[] {
  const lines = [`Question ${index + 1} of ${total}: ${question.question}`];
  question.choices.forEach((choice, i) => {
    lines.push(`  ${i + 1}. ${choice.label}${choice.explanation ? ` - ${choice.explanation}` : ''}${i === 0 ? ' (recommended)' : ''}`);
  });
  return lines;
}

/**
 * The index of the choice an answer names: "" is the first (recommended) one, a number counts
 * from 1, a label matches case-insensitively. null when it names none.
 */
export function parseChoice(answer: string, question: Question): number | null {
  const text = answer.trim();
  if (text === '') return 0;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= question.choices.length ? n - 1 : null;
  }
  const index = question.choices.findIndex((choice) => choice.label.toLowerCase() === text.toLowerCase());
  return index >= 0 ? index : null;
}

/** Every question answered with its first (recommended) choice: `--yes`, or no terminal. */
export function defaultDecisions(questions: readonly Question[]): Decision[] {
  return questions.map((q) => ({ param: q.param, question: q.question, answer: q.choices[0]?.label ?? '' }));
}

/** Asks each question in turn; an answer that names no choice is asked again, and input that ends takes the defaults. */
export async function askQuestions(questions: readonly Question[], io: QuestionIo): Promise<Decision[]> {
  const decisions: Decision[] = [];
  for (const [index, question] of questions.entries()) {
    io.write('');
    for (const line of renderQuestion(question, index, questions.length)) io.write(line);
    let choice: number | null = null;
    for (let tries = 0; choice === null && tries < MAX_TRIES; tries++) {
      const answer = await io.ask(`Choose 1-${question.choices.length} [1]: `);
      if (answer === null) {
        choice = 0;
        break;
      }
      choice = parseChoice(answer, question);
      if (choice === null) io.write(`  Please answer with a number from 1 to ${question.choices.length}.`);
    }
    const picked = question.choices[choice ?? 0];
    decisions.push({ param: question.param, question: question.question, answer: picked?.label ?? '' });
  }
  return decisions;
}
