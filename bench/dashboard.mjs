/**
 * How `crucible dashboard` holds up on a long run: a 10,000-trial ledger (--trials), written with
 * crucible's own ledger writer (openLedger + appendEvent, the events a parallel run writes) and
 * each trial's diff and run log written as the loop writes them. Then, against the built CLI in
 * its own process:
 *   - start-up: spawn to URL printed;
 *   - per request (--requests each, one after another, gzip accepted as a browser does): the run
 *     list, the whole run (what a page loads), a random trial's diff, the page itself: median and
 *     p95, with the bytes sent;
 *   - live: trials appended to the ledger while a client follows /api/events: append to event;
 *   - page load in headless Chromium (when there is one): navigation to the run drawn, and the
 *     same for the `postmortem --html` report of that run.
 *
 *   node bench/dashboard.mjs [--trials 10000] [--requests 200] [--live 40] [--keep]
 *
 * Never run as a timed test. Results go to stdout and bench/results/dashboard.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { round, summarize } from './lib/stats.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (file) => pathToFileURL(path.join(repoRoot, 'dist', file)).href;
const { openLedger } = await import(dist('store/ledger.js'));
const { appendEvent } = await import(dist('store/ledger-events.js'));
const { runPaths } = await import(dist('store/run-paths.js'));
const { trialArtifactPath } = await import(dist('store/trial-artifacts.js'));
const cli = path.join(repoRoot, 'dist', 'cli', 'main.js');
const options = parseOptions(process.argv.slice(2));
const chromiumPath = process.env.CRUCIBLE_CHROMIUM ?? '/usr/bin/chromium';
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-dashboard-bench-')));
const env = { ...process.env, ...benchGitEnv, NO_COLOR: '1' };
const results = { trials: options.trials, machine: `${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}` };
let server = null;
try {
  const project = createBenchProject(path.join(tmp, 'project'));
  const t0 = performance.now();
  const writer = writeRun(project, 'long', options.trials);
  results.ledgerMB = round(statSync(runPaths(project, 'long').ledger).size / 1e6, 1);
  out(`ledger: ${options.trials} trials, ${results.ledgerMB} MB, written in ${round((performance.now() - t0) / 1000, 1)} s`);

  const started = performance.now();
  server = await startServer(project);
  results.startupMs = round(performance.now() - started);
  out(`start-up (spawn to URL): ${results.startupMs} ms`);

  const origin = new URL(server.url).origin;
  const q = `token=${server.token}`;
  const random = prng(1);
  const paths = {
    'run list': () => `/api/runs?${q}`,
    'whole run': () => `/api/run/long?${q}`,
    'trial diff': () => `/api/run/long/trial/${1 + Math.floor(random() * options.trials)}/diff?${q}`,
    page: () => `/?${q}`,
  };
  results.requests = {};
  for (const [name, make] of Object.entries(paths)) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < options.requests; i++) {
      const start = performance.now();
      const answer = await get(origin, make());
      times.push(performance.now() - start);
      // A skipped trial has no diff: its 404 is a request like any other.
      if (answer.status !== 200 && !(name === 'trial diff' && answer.status === 404)) throw new Error(`${name}: HTTP ${answer.status}`);
      bytes = answer.bytes;
    }
    results.requests[name] = { ...summarize(times), bytes };
    out(`${name.padEnd(10)} median ${round(results.requests[name].median)} ms, p95 ${round(results.requests[name].p95)} ms (${bytes} bytes)`);
  }

  // Live: a trial's end appended, timed to the event that tells the page.
  const seen = new Map();
  const stream = await followEvents(origin, server.token, (data) => {
    for (const trial of data.trials ?? []) if (trial.o !== null && !seen.has(trial.n)) seen.set(trial.n, performance.now());
  });
  const lags = [];
  for (let i = 0; i < options.live; i++) {
    const n = options.trials + 1 + i;
    const at = performance.now();
    writer.trial(n);
    while (!seen.has(n) && performance.now() - at < 5000) await sleep(2);
    lags.push((seen.get(n) ?? Infinity) - at);
    await sleep(50);
  }
  stream.close();
  results.live = summarize(lags);
  out(`live: ledger append to event, median ${results.live.median} ms, p95 ${results.live.p95} ms (${lags.length} trials)`);
  writer.close();

  if (existsSync(chromiumPath)) {
    const report = path.join(tmp, 'report.html');
    const made = spawnSync(process.execPath, [cli, 'postmortem', '--tag', 'long', '--html', '--out', report], { cwd: project, env, encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`postmortem --html: ${made.stderr}`);
    results.reportMB = round(statSync(report).size / 1e6, 1);
    const all = options.trials + 1 + options.live;
    results.pageLoad = await timePageLoads([server.url, pathToFileURL(report).href], all, all);
    out(`page load in Chromium (navigation to the run drawn): dashboard median ${results.pageLoad[0].median} ms, p95 ${results.pageLoad[0].p95} ms; report (${results.reportMB} MB) median ${results.pageLoad[1].median} ms, p95 ${results.pageLoad[1].p95} ms`);
  } else {
    out(`page load: skipped (no Chromium at ${chromiumPath})`);
  }
  writeFileSync(path.join(repoRoot, 'bench', 'results', 'dashboard.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await server?.stop();
  if (options.keep) process.stderr.write(`kept ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}

/**
 * A parallel run of `count` trials after the baseline, through the ledger writer: each trial starts
 * from the incumbent, is measured in one of 4 slots and ends kept (1 in 8), discarded, crashed or
 * skipped; its diff and run log are written to its folder.
 */
function writeRun(project, tag, count) {
  const paths = runPaths(project, tag);
  const ledger = openLedger(paths.ledger);
  const random = prng(7);
  const sha = (n) => n.toString(16).padStart(40, '0');
  let incumbent = sha(1);
  let best = 10;
  appendEvent(ledger, { type: 'run.create', tag, branch: `crucible/${tag}`, from: incumbent, forkedFrom: null });
  appendEvent(ledger, { type: 'session.start', pid: 1, agent: 'tuner', head: incumbent });
  const summary = (n, outcome, metric, commit, parent) => ({ trial: n, outcome, metric, description: `set A_RATE to ${n % 97}`, commit, files: commit ? ['params.txt'] : [], best, agentMs: 800, runMs: 1200, totalMs: 2100, costUsd: 0.002, usage: { inputTokens: 4000, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.002 }, parent, base: parent, slot: n % 4 });
  // The loop's own writer is asynchronous; the bench writes the same files in place, one at a time.
  const writeTrialArtifact = (trialPaths, n, name, text) => {
    mkdirSync(trialPaths.trialDir(n), { recursive: true });
    writeFileSync(trialArtifactPath(trialPaths, n, name), text);
  };
  const trial = (n) => {
    const parent = incumbent;
    const commit = sha(1000 + n);
    const slot = n % 4;
    appendEvent(ledger, { type: 'trial.start', n, parent });
    const roll = random();
    if (roll < 0.1) {
      appendEvent(ledger, { type: 'agent.done', n, description: 'no change', files: [], usage: null, ms: 800 });
      appendEvent(ledger, { type: 'guard', n, outcome: 'skip', reason: 'no files were changed' });
      appendEvent(ledger, { type: 'trial.end', n, summary: summary(n, 'skip', null, '', parent), at: new Date().toISOString() });
      return;
    }
    appendEvent(ledger, { type: 'agent.done', n, description: `set A_RATE to ${n % 97}`, files: ['params.txt'], usage: { inputTokens: 4000, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.002 }, ms: 800 });
    appendEvent(ledger, { type: 'guard', n, outcome: 'ok', files: ['params.txt'] });
    appendEvent(ledger, { type: 'commit', n, sha: commit, parent, base: parent });
    writeTrialArtifact(paths, n, 'diff.patch', `diff --git a/params.txt b/params.txt\n--- a/params.txt\n+++ b/params.txt\n@@ -1,3 +1,3 @@\n-A_RATE 0.1\n+A_RATE ${n % 97}\n B_SIZE 7\n`);
    appendEvent(ledger, { type: 'run.start', n, sha: commit, handle: { executor: 'local', pgid: 5000 + slot, processTag: `t-${n}` }, slot });
    const crashed = roll < 0.2;
    const metric = crashed ? null : round(best * (0.97 + random() * 0.1), 6);
    writeTrialArtifact(paths, n, 'run.log', crashed ? 'Traceback: boom\n' : `loss: ${metric}\n`);
    appendEvent(ledger, { type: 'run.done', n, exitCode: crashed ? 1 : 0, signal: null, timedOut: false, metric, reason: crashed ? 'exit 1' : null, ms: 1200 });
    const outcome = crashed ? 'crash' : metric < best ? 'keep' : 'discard';
    appendEvent(ledger, { type: 'decide', n, outcome, metric, best, reason: 'r' });
    if (outcome === 'keep') {
      appendEvent(ledger, { type: 'apply', n, sha: commit, files: ['params.txt'] });
      incumbent = commit;
      best = metric;
    } else appendEvent(ledger, { type: 'reset', n, to: parent });
    appendEvent(ledger, { type: 'trial.end', n, summary: summary(n, outcome, metric, commit, parent), at: new Date().toISOString() });
  };
  appendEvent(ledger, { type: 'trial.start', n: 0, parent: incumbent, baseline: true });
  appendEvent(ledger, { type: 'run.start', n: 0, sha: incumbent, handle: { executor: 'local', pgid: 4999, processTag: 't-0' }, slot: 0 });
  appendEvent(ledger, { type: 'run.done', n: 0, exitCode: 0, signal: null, timedOut: false, metric: best, reason: null, ms: 1200 });
  appendEvent(ledger, { type: 'decide', n: 0, outcome: 'baseline', metric: best, best: null, reason: 'baseline' });
  appendEvent(ledger, { type: 'trial.end', n: 0, summary: { ...summary(0, 'baseline', best, incumbent, incumbent), costUsd: null, usage: null }, at: new Date().toISOString() });
  for (let n = 1; n <= count; n++) trial(n);
  return { trial, close: () => ledger.close() };
}

async function startServer(project) {
  const child = spawn(process.execPath, [cli, 'dashboard'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      const match = /^(http:\/\/\S+)$/m.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.on('close', (code) => reject(new Error(`crucible dashboard exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('close', resolve));
  return { url, token: new URL(url).searchParams.get('token'), stop: async () => (child.kill('SIGINT'), await exited) };
}

function get(origin, pathAndQuery) {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    http
      .get({ host: hostname, port, path: pathAndQuery, agent: keepAlive, headers: { 'Accept-Encoding': 'gzip' } }, (response) => {
        let bytes = 0;
        response.on('data', (chunk) => (bytes += chunk.length));
        response.on('end', () => resolve({ status: response.statusCode, bytes }));
      })
      .on('error', reject);
  });
}

function followEvents(origin, token, onData) {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = http.get({ host: hostname, port, path: `/api/events?token=${token}` }, (response) => {
      let buffer = '';
      response.setEncoding('utf8').on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = /^data: (.*)$/m.exec(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (data) onData(JSON.parse(data[1]));
        }
      });
      resolve({ close: () => request.destroy() });
    });
    request.on('error', reject);
  });
}

async function timePageLoads(urls, ...readyCounts) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(tmp, 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const summaries = [];
    for (const [i, url] of urls.entries()) {
      const times = [];
      for (let round = 0; round < 6; round++) {
        const page = await context.newPage();
        const start = performance.now();
        await page.goto(url);
        await page.waitForSelector(`body[data-ready="${readyCounts[i]}"]`, { timeout: 60_000 });
        if (round > 0) times.push(performance.now() - start); // the first warms the browser up
        await page.close();
      }
      summaries.push(summarize(times));
    }
    return summaries;
  } finally {
    await context.close();
  }
}

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function out(line) {
  process.stdout.write(`${line}\n`);
}

function parseOptions(args) {
  const parsed = { trials: 10_000, requests: 200, live: 40, keep: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--trials') parsed.trials = Number(args[++i]);
    else if (arg === '--requests') parsed.requests = Number(args[++i]);
    else if (arg === '--live') parsed.live = Number(args[++i]);
    else if (arg === '--keep') parsed.keep = true;
    else throw new Error(`unknown option ${arg}`);
  }
  return parsed;
}
