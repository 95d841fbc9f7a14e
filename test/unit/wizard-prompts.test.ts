import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analysisSchema, buildAnalyzePrompt } from '../../src/project/wizard/analysis.js';
import { formatEnvironment, parseNvidiaSmi, type DetectedEnvironment } from '../../src/project/wizard/environment.js';
import { buildGeneratePrompt, buildGenerateSystemPrompt, renderAgentSection } from '../../src/project/wizard/generation.js';
import { extractGuidance, readHarnessReference, skillFile } from '../../src/project/wizard/harness-reference.js';
import { readModelJson } from '../../src/project/wizard/model-json.js';
import { agentConfigWith } from '../helpers/agent-config.js';

const ANALYSIS = {
  name: 'gomoku-az',
  metric: { name: 'win_rate', direction: 'maximize' },
  editable_files: ['agent.py'],
  language: 'python',
  timeout_seconds: 600,
  architecture_guards: ['must use MCTS: the harness counts calls to the search callback'],
  uncertain: [
    { param: 'board', question: 'Board size?', choices: [{ label: '9x9', explanation: 'fast' }, { label: '15x15' }] },
    { param: 'lonely', question: 'Only one choice?', choices: [{ label: 'yes' }] },
    { param: 'many', question: 'Many?', choices: ['a', 'b', 'c', 'd', 'e'].map((label) => ({ label })) },
    { param: 'fourth', question: 'A fourth?', choices: [{ label: 'x' }, { label: 'y' }] },
    { param: 'fifth', question: 'A fifth?', choices: [{ label: 'x' }, { label: 'y' }] },
  ],
};

describe('reading the model JSON', () => {
  it.each([
    ['bare', JSON.stringify(ANALYSIS)],
    ['fenced', `Here is the analysis:\n\n\`\`\`json\n${JSON.stringify(ANALYSIS, null, 2)}\n\`\`\`\n`],
    ['wrapped in prose', `Sure. ${JSON.stringify(ANALYSIS)} Hope this helps!`],
  ])('finds the object when it is %s', (_how, text) => {
    const reading = readModelJson(text, analysisSchema);
    expect(reading.ok).toBe(true);
  });

  it('keeps at most three questions, each with two to four choices', () => {
    const reading = readModelJson(JSON.stringify(ANALYSIS), analysisSchema);
    if (!reading.ok) throw new Error(reading.error);
    expect(reading.value.uncertain.map((q) => q.param)).toEqual(['board', 'many', 'fourth']);
    expect(reading.value.uncertain[1]?.choices.map((c) => c.label)).toEqual(['a', 'b', 'c', 'd']);
    expect(reading.value.uncertain[0]?.choices[1]).toEqual({ label: '15x15', explanation: '' });
  });

  it.each([
    ['', /empty/],
    ['I cannot help with that.', /no JSON object/],
    ['{"name": "x", ', /does not parse/],
    [JSON.stringify({ ...ANALYSIS, metric: { name: 'win rate!', direction: 'up' } }), /metric\.name.*metric\.direction|expected shape/],
    [JSON.stringify({ ...ANALYSIS, language: 'rust' }), /language/],
  ])('says why %j is unusable', (text, why) => {
    const reading = readModelJson(text, analysisSchema);
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.error).toMatch(why);
  });
});

describe('the environment for the prompt', () => {
  const env: DetectedEnvironment = {
    platform: 'linux',
    release: '6.1.0',
    arch: 'x64',
    node: 'v20.20.0',
    cpus: 16,
    ramGb: 125.8,
    python: { command: 'python3', version: '3.11.7', torch: '2.4.0', torchCuda: true, torchMps: false, mlx: false },
    gpus: parseNvidiaSmi('NVIDIA H100 80GB HBM3, 81559 MiB\nNVIDIA H100 80GB HBM3, 81559 MiB\n'),
  };

  it('reads nvidia-smi lines', () => {
    expect(env.gpus).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', memory: '81559 MiB' },
      { name: 'NVIDIA H100 80GB HBM3', memory: '81559 MiB' },
    ]);
    expect(parseNvidiaSmi('No devices were found\n')).toEqual([]);
  });

  it('lists the machine, Python, PyTorch and the GPUs', () => {
    expect(formatEnvironment(env)).toBe(
      [
        '[Detected runtime environment]',
        'OS: linux 6.1.0 (x64)',
        'CPU cores: 16',
        'RAM: 125.8 GB',
        'Node.js: v20.20.0',
        'Python: 3.11.7 (python3)',
        'PyTorch: 2.4.0 (CUDA)',
        'NVIDIA GPUs: NVIDIA H100 80GB HBM3 (81559 MiB), NVIDIA H100 80GB HBM3 (81559 MiB)',
      ].join('\n'),
    );
  });

  it('says what is missing: no Python, no GPU; Apple Silicon by name', () => {
    const mac = formatEnvironment({ ...env, platform: 'darwin', arch: 'arm64', python: null, gpus: [] });
    expect(mac).toContain('Hardware: Apple Silicon');
    expect(mac).toContain('Python: not found');
    expect(mac).toContain('NVIDIA GPUs: none');
    const cpuTorch = formatEnvironment({ ...env, python: { ...env.python!, torchCuda: false } });
    expect(cpuTorch).toContain('PyTorch: 2.4.0 (CPU only)');
    expect(buildAnalyzePrompt('  Sort faster  ', 'ENV')).toBe('Sort faster\n\nENV');
  });
});

describe('the generation prompts', () => {
  it("carry crucible's setup guide, without its front matter and its manual verification step", () => {
    const guidance = readHarnessReference();
    expect(readFileSync(skillFile(), 'utf8')).toContain('name: crucible-setup');
    expect(guidance).toContain('## 3. The hidden evaluation harness');
    expect(guidance).toContain('Generate or hold the test data itself');
    expect(guidance).not.toContain('name: crucible-setup');
    expect(guidance).not.toContain('## 7. Verify the baseline');
    expect(buildGenerateSystemPrompt(guidance)).toContain('## Crucible reference');
    expect(extractGuidance('---\nname: x\n---\nintro\n## 6. Config\nc\n## 7. Verify\nv\n')).toBe('intro\n## 6. Config\nc');
    expect(readHarnessReference('/nonexistent/SKILL.md')).toContain('## The hidden evaluation harness');
  });

  it("hand the model the analysis, the user's decisions and the agent section to copy", () => {
    const reading = readModelJson(JSON.stringify(ANALYSIS), analysisSchema);
    if (!reading.ok) throw new Error(reading.error);
    const agent = agentConfigWith({ type: 'api', provider: 'openai-compatible', model: 'qwen3:8b', base_url: 'http://localhost:11434/v1' });
    const prompt = buildGeneratePrompt({
      description: 'AlphaZero gomoku',
      analysis: reading.value,
      decisions: [{ param: 'board', question: 'Board size?', answer: '15x15' }],
      environmentText: '[Detected runtime environment]',
      agentSection: renderAgentSection(agent),
    });
    expect(prompt).toContain('"architecture_guards": [\n    "must use MCTS');
    expect(prompt).toContain('- Board size? 15x15');
    expect(prompt).toContain('agent:\n  type: api\n  provider: openai-compatible\n  model: "qwen3:8b"\n  base_url: "http://localhost:11434/v1"');
    expect(prompt).not.toContain('"uncertain"');
    expect(renderAgentSection(agentConfigWith({ type: 'claude-code' }))).toBe('agent:\n  type: claude-code');
  });
});
