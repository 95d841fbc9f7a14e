import { describe, expect, it } from 'vitest';
import type { Question } from '../../src/project/wizard/analysis.js';
import { askQuestions, defaultDecisions, parseChoice, renderQuestion, type QuestionIo } from '../../src/project/wizard/questions.js';

const board: Question = {
  param: 'board_size',
  question: 'Which board size?',
  choices: [
    { label: '9x9', explanation: 'fast trials, fits a CPU' },
    { label: '15x15', explanation: 'the standard board' },
    { label: '19x19', explanation: '' },
  ],
};
const data: Question = {
  param: 'data',
  question: 'Where does the data come from?',
  choices: [
    { label: 'synthetic', explanation: 'generated from a seed' },
    { label: 'a CSV file', explanation: 'you provide it' },
  ],
};

/** A user at a terminal typing `answers` in turn (null: input ended). */
function scripted(answers: (string | null)[]): QuestionIo & { lines: string[]; prompts: string[] } {
  const lines: string[] = [];
  const prompts: string[] = [];
  return {
    lines,
    prompts,
    ask: (prompt) => {
      prompts.push(prompt);
      return Promise.resolve(answers.length > 0 ? (answers.shift() ?? null) : null);
    },
    write: (line) => lines.push(line),
  };
}

describe('clarifying questions', () => {
  it('shows a question with its numbered choices, the first one recommended', () => {
    expect(renderQuestion(board, 0, 2)).toEqual([
      'Question 1 of 2: Which board size?',
      '  1. 9x9 - fast trials, fits a CPU (recommended)',
      '  2. 15x15 - the standard board',
      '  3. 19x19',
    ]);
  });

  it.each<[string, number | null]>([
    ['', 0],
    ['  ', 0],
    ['1', 0],
    ['3', 2],
    [' 2 ', 1],
    ['15X15', 1],
    ['0', null],
    ['4', null],
    ['-1', null],
    ['big', null],
  ])('reads the answer %j as choice %s', (answer, index) => {
    expect(parseChoice(answer, board)).toBe(index);
  });

  it('asks each question in turn and records the chosen labels', async () => {
    const io = scripted(['2', 'a csv file']);
    const decisions = await askQuestions([board, data], io);
    expect(decisions).toEqual([
      { param: 'board_size', question: 'Which board size?', answer: '15x15' },
      { param: 'data', question: 'Where does the data come from?', answer: 'a CSV file' },
    ]);
    expect(io.prompts).toEqual(['Choose 1-3 [1]: ', 'Choose 1-2 [1]: ']);
    expect(io.lines).toContain('Question 2 of 2: Where does the data come from?');
  });

  it('asks again after an answer that names no choice, and takes the recommended one after three', async () => {
    const again = scripted(['7', 'three', '3']);
    expect((await askQuestions([board], again))[0]?.answer).toBe('19x19');
    expect(again.lines.filter((line) => line.includes('Please answer with a number from 1 to 3'))).toHaveLength(2);

    const stubborn = scripted(['7', '8', '9', '2']);
    expect((await askQuestions([board], stubborn))[0]?.answer).toBe('9x9');
    expect(stubborn.prompts).toHaveLength(3);
  });

  it('takes the recommended choices when the input ends (Enter or Ctrl+D)', async () => {
    expect(await askQuestions([board, data], scripted(['', null]))).toEqual(defaultDecisions([board, data]));
    expect(defaultDecisions([board, data]).map((d) => d.answer)).toEqual(['9x9', 'synthetic']);
  });
});
