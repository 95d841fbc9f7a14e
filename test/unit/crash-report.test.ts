import { describe, expect, it } from 'vitest';
import { formatCrashReport, tailLines } from '../../src/runner/crash-report.js';

const nowhere = '/nonexistent/crucible-crash-report';

describe('tailLines', () => {
  it('keeps the last lines', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${String(i)}`).join('\n');
    expect(tailLines(text, 3)).toBe('line 97\nline 98\nline 99');
  });

  it('shows only the final state of a progress bar', () => {
    expect(tailLines('epoch 1\r 10%\r 50%\r100%\ndone\n')).toBe('100%\ndone');
  });
});

describe('formatCrashReport', () => {
  it('puts the headline first and the stderr tail under it', () => {
    const stderr = `Traceback (most recent call last):\n  File "x.py", line 1\nValueError: ${'v'.repeat(80)}\n`;
    const report = formatCrashReport('run command exited with code 1', { stdout: 'noise', stderr, cwd: nowhere });
    expect(report.split('\n')[0]).toBe('run command exited with code 1');
    expect(report).toContain('ValueError');
    expect(report).not.toContain('noise');
  });

  it('uses stdout when stderr says too little, keeping the short stderr too', () => {
    const report = formatCrashReport('run command killed by SIGKILL', {
      stdout: 'step 1\nstep 2\n',
      stderr: 'Killed\n',
      cwd: nowhere,
    });
    expect(report).toBe('run command killed by SIGKILL\nstep 1\nstep 2\nKilled');
  });

  it('is only the headline when there is no output at all', () => {
    expect(formatCrashReport('eval command exited with code 1', { stdout: '', stderr: '', cwd: nowhere })).toBe(
      'eval command exited with code 1',
    );
  });

  it('stays near 4 KB and keeps the end', () => {
    const stderr = Array.from({ length: 50 }, (_, i) => `${String(i)} ${'e'.repeat(200)}`).join('\n');
    const report = formatCrashReport('headline', { stdout: '', stderr, cwd: nowhere });
    expect(report.length).toBeLessThanOrEqual(4096);
    expect(report.startsWith('headline\n')).toBe(true);
    expect(report.endsWith(`49 ${'e'.repeat(200)}`)).toBe(true);
  });
});
