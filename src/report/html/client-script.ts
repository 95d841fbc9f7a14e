import { CLIENT_VIEWS } from './client-views.js';

/**
 * The page's script, shared by the live dashboard and the HTML report: it draws whatever runs it
 * is given (run-model.ts) and, on the dashboard, follows the server's events. Plain browser
 * JavaScript, kept as text so that the package serves it without a bundler. Every text from the
 * records (descriptions, diffs, logs: written by agents and experiments) goes in through
 * `textContent`, never as HTML. The drawing of each view is in client-views.ts, inside the same
 * function.
 */
export const CLIENT_SCRIPT = String.raw`
'use strict';
(function () {
  var boot = JSON.parse(document.getElementById('crucible-data').textContent);
  var LIVE = boot.mode === 'live';
  var token = LIVE ? new URLSearchParams(location.search).get('token') || '' : '';
  var runs = {};          // tag -> model (trials kept in .byN as well)
  var tags = [];
  var state = { tag: null, cmp: '', filter: 'all', sort: 'n', up: false, limit: 500, sel: null, tab: 'diff', tree: true };
  var TABLE_LIMIT = 500;
  var FAILED = { crash: 1, violation: 1, 'agent-error': 1, interrupted: 1 };
  var SVG = 'http://www.w3.org/2000/svg';

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (kid) { e.appendChild(typeof kid === 'string' ? document.createTextNode(kid) : kid); });
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function api(path) { return path + (path.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(token); }

  function fmt(v) {
    if (v === null || v === undefined) return '-';
    if (!isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    var t = Math.abs(v) < 1e-4 ? v.toExponential(5) : v.toPrecision(6);
    var parts = t.split('e'), m = parts[0];
    if (m.indexOf('.') >= 0) m = m.replace(/0+$/, '').replace(/\.$/, '');
    return parts.length > 1 ? m + 'e' + parts[1] : m;
  }
  function secs(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(m / 60) + 'h ' + String(m % 60).padStart(2, '0') + 'm';
  }
  function usd(v) { return v === null || v === undefined ? '-' : v > 0 && v < 0.01 ? '$' + v.toPrecision(1) : '$' + v.toFixed(2); }
  function pct(v) { return v === null || v === undefined ? '' : (v > 0 ? '+' : '') + v.toFixed(1) + '%'; }
  function outcomeOf(t) { return t.o === null ? 'in flight' : t.o; }
  function better(a, b, dir) { return b === null || (dir === 'minimize' ? a < b : a > b); }

  function adopt(model) {
    model.byN = {};
    model.trials.forEach(function (t) { model.byN[t.n] = t; });
    runs[model.tag] = model;
    if (tags.indexOf(model.tag) < 0) tags.push(model.tag);
  }
  function merge(msg) {
    var model = runs[msg.tag];
    if (!model) return;
    model.summary = msg.summary; model.incumbent = msg.incumbent; model.live = msg.live;
    msg.trials.forEach(function (t) {
      if (!model.byN[t.n]) model.trials.push(t);
      else model.trials[model.trials.indexOf(model.byN[t.n])] = t;
      model.byN[t.n] = t;
    });
    model.trials.sort(function (a, b) { return a.n - b.n; });
  }

  // ---- header, run list, cards
  function drawNav() {
    var nav = clear($('runs'));
    tags.forEach(function (tag) {
      nav.appendChild(el('button', { text: tag, cls: tag === state.tag ? 'on' : '', 'data-tag': tag, onclick: function () { select(tag); } }));
    });
    var cmp = clear($('compare'));
    cmp.appendChild(el('option', { value: '', text: '(none)' }));
    tags.forEach(function (tag) { if (tag !== state.tag) cmp.appendChild(el('option', { value: tag, text: tag })); });
    cmp.value = state.cmp;
  }
  function card(key, label, value, note) {
    return el('div', { cls: 'card', 'data-k': key }, [el('div', { cls: 'k', text: label }), el('div', { cls: 'v', text: value }), note ? el('div', { cls: 'k', text: note }) : el('span')]);
  }
  function drawCards(model) {
    var s = model.summary, box = clear($('cards'));
    var other = s.skipped + s.violations + s.agentErrors + s.stopped + s.interrupted + s.stale;
    var flying = model.trials.filter(function (t) { return t.o === null; }).length;
    box.appendChild(card('trials', 'trials', String(s.trials)));
    box.appendChild(card('kept', 'kept', String(s.kept)));
    box.appendChild(card('discarded', 'discarded', String(s.discarded)));
    box.appendChild(card('crashed', 'crashed', String(s.crashed)));
    box.appendChild(card('other', 'other', String(other), 'skip, violation, agent error, stopped, stale'));
    box.appendChild(card('inflight', 'in flight', String(flying)));
    box.appendChild(card('baseline', 'baseline', fmt(s.baseline ? s.baseline.metric : null)));
    box.appendChild(card('best', 'best ' + model.metric.name, fmt(s.best ? s.best.metric : null), s.best ? 'trial ' + s.best.trial + (s.improvement ? ' ' + pct(s.improvement.percent) : '') : ''));
    box.appendChild(card('cost', 'agent cost', usd(s.totalCostUsd)));
    var badge = $('status');
    badge.textContent = model.live ? 'running' : LIVE ? 'not running' : 'report';
    badge.className = 'badge' + (model.live ? ' live' : '');
    $('metric-name').textContent = model.metric.name + ' (' + (model.metric.direction === 'minimize' ? 'lower' : 'higher') + ' is better)';
  }

${CLIENT_VIEWS}
  // ---- the whole page
  var pending = false;
  function draw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      var model = runs[state.tag];
      drawNav();
      if (!model) return;
      drawCards(model); drawChart(model); drawFlight(model); drawFilter(model); drawTable(model);
      document.body.setAttribute('data-ready', String(model.trials.length));
    });
  }
  function select(tag) {
    state.tag = tag; state.sel = null; state.limit = TABLE_LIMIT;
    if (state.cmp === tag) state.cmp = '';
    $('detail').hidden = true;
    if (LIVE) history.replaceState(null, '', '?token=' + encodeURIComponent(token) + '#run=' + encodeURIComponent(tag));
    if (runs[tag]) { draw(); return; }
    fetchRun(tag).then(draw);
  }
  function fetchRun(tag) {
    return fetch(api('/api/run/' + encodeURIComponent(tag))).then(function (r) { return r.ok ? r.json() : null; }).then(function (m) { if (m) adopt(m); });
  }

  $('compare').addEventListener('change', function () {
    state.cmp = $('compare').value;
    if (state.cmp && !runs[state.cmp] && LIVE) fetchRun(state.cmp).then(draw); else draw();
  });
  $('filter').addEventListener('change', function () { state.filter = $('filter').value; state.limit = TABLE_LIMIT; draw(); });
  $('tree').addEventListener('change', function () { state.tree = $('tree').checked; draw(); });

  if (!LIVE) {
    boot.runs.forEach(adopt);
    state.cmp = boot.runs.length > 1 ? boot.runs[1].tag : '';
    state.tag = boot.runs[0] ? boot.runs[0].tag : null;
    draw();
    return;
  }
  var wanted = decodeURIComponent((location.hash.match(/run=([^&]+)/) || [])[1] || '');
  fetch(api('/api/runs')).then(function (r) { return r.json(); }).then(function (list) {
    list.forEach(function (run) { if (tags.indexOf(run.tag) < 0) tags.push(run.tag); });
    var first = tags.indexOf(wanted) >= 0 ? wanted : tags[tags.length - 1];
    if (first) select(first); else { drawNav(); $('empty').hidden = false; }
    var source = new EventSource(api('/api/events'));
    source.addEventListener('run', function (ev) {
      var msg = JSON.parse(ev.data);
      if (tags.indexOf(msg.tag) < 0) { tags.push(msg.tag); $('empty').hidden = true; if (!state.tag) { select(msg.tag); return; } }
      if (msg.reset) { delete runs[msg.tag]; if (msg.tag === state.tag || msg.tag === state.cmp) fetchRun(msg.tag).then(draw); else draw(); return; }
      if (runs[msg.tag]) merge(msg);
      if (msg.tag === state.tag || msg.tag === state.cmp || !runs[msg.tag]) draw();
    });
  });
})();
`;
