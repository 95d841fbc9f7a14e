import { createHash } from 'node:crypto';
import { CLIENT_SCRIPT } from './client-script.js';
import { PAGE_STYLE } from './page-style.js';
import type { RunModel } from './run-model.js';

/** Texts of one trial kept in a report, by kind (diff, prompt, transcript, log). */
export type TrialTexts = Partial<Record<ArtifactKind, string>>;
export const artifactKinds = ['diff', 'prompt', 'transcript', 'log'] as const;
export type ArtifactKind = (typeof artifactKinds)[number];

/** What the page starts from: the dashboard's page fetches its runs; a report carries them. */
export type PageBoot =
  | { mode: 'live'; project: string }
  | {
      mode: 'report';
      project: string;
      generatedAt: string;
      runs: RunModel[];
      /** tag -> trial -> texts. */
      artifacts: Record<string, Record<number, TrialTexts>>;
      /** Why some trials' texts are missing (a size limit); null when all are there. */
      artifactsOmitted: string | null;
    };

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const SCRIPT_HASH = sha256(CLIENT_SCRIPT);
const STYLE_HASH = sha256(PAGE_STYLE);

/**
 * The page's content security policy: its own script and style only, nothing to load. A report
 * opened from a file may contact nothing at all; the dashboard's page may talk to its own server.
 * Whatever an agent wrote into a description or a diff could not run even if it reached the DOM as
 * markup.
 */
export function pagePolicy(mode: PageBoot['mode']): string {
  const connect = mode === 'live' ? "'self'" : "'none'";
  return `default-src 'none'; script-src ${SCRIPT_HASH}; style-src ${STYLE_HASH}; connect-src ${connect}; img-src 'none'; base-uri 'none'; form-action 'none'`;
}

/** The page: one self-contained HTML document (style, script and, for a report, the data inline). */
export function renderPage(boot: PageBoot): string {
  const title = boot.mode === 'report' ? `crucible report: ${boot.runs.map((run) => run.tag).join(' vs ')}` : 'crucible dashboard';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${pagePolicy(boot.mode)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head><body>
<header><h1>crucible</h1><span class="muted">${escapeHtml(boot.project)}</span><nav id="runs"></nav><span id="status" class="badge"></span>${
    boot.mode === 'report' ? `<span class="muted">generated ${escapeHtml(boot.generatedAt)}</span>` : ''
  }</header>
<main>
<p id="empty" class="muted" hidden>No runs yet. Start one with <code>crucible run --tag run1</code>: it appears here.</p>
<section id="cards"></section>
<h2>Metric over trials: <span id="metric-name"></span></h2>
<div class="controls"><label>compare with <select id="compare"></select></label><label><input type="checkbox" id="tree" checked> trial tree (each trial linked to the one it started from)</label></div>
<div id="chart"></div><div id="legend" class="legend"></div>
<section id="inflight-section" hidden><h2>In flight</h2>
<table id="inflight"><thead><tr><th>#</th><th>slot</th><th>phase</th><th>elapsed</th><th>description</th></tr></thead><tbody></tbody></table></section>
<h2>Trials</h2>
<div class="controls"><select id="filter"></select><span id="shown"></span></div>
<section id="detail" hidden></section>
<table id="trials"><thead><tr></tr></thead><tbody></tbody></table>
</main>
<script id="crucible-data" type="application/json">${embedJson(boot)}</script>
<script>${CLIENT_SCRIPT}</script>
</body></html>
`;
}

/**
 * JSON that cannot end its script element: every "<" is written as \u003c (also covers "<!--"),
 * and the two line separators JavaScript once treated as line ends are escaped too.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
