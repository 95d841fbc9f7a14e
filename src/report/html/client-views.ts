/**
 * The page script's views (chart, trials in flight, trial table, one trial), spliced into
 * CLIENT_SCRIPT's function: they use its helpers (el, svg, fmt, ...) and its state.
 */
export const CLIENT_VIEWS = String.raw`
  // ---- chart
  var W = 1000, H = 340, L = 64, R = 16, T = 14, B = 30;
  // A point is a line of no length with round caps (its stroke width is the diameter): one short
  // command per point, which the browser draws far faster than two arcs when there are 10,000.
  function dot(x, y) { return 'M' + x.toFixed(1) + ' ' + y.toFixed(1) + 'h0'; }
  function bestLine(trials, dir, sx, sy, right) {
    var best = null, d = '';
    trials.forEach(function (t) {
      if ((t.o === 'keep' || t.o === 'baseline') && t.m !== null && better(t.m, best, dir)) {
        d += (d === '' ? 'M' + sx(t.n).toFixed(1) + ' ' + sy(t.m).toFixed(1) : 'H' + sx(t.n).toFixed(1) + 'V' + sy(t.m).toFixed(1));
        best = t.m;
      }
    });
    return d === '' ? d : d + 'H' + right.toFixed(1);
  }
  function noiseBand(trials, dir, band, sx, sy, right) {
    var best = null, from = null, d = '';
    var box = function (x0, x1, m) { d += 'M' + x0.toFixed(1) + ' ' + sy(m + band).toFixed(1) + 'H' + x1.toFixed(1) + 'V' + sy(m - band).toFixed(1) + 'H' + x0.toFixed(1) + 'Z'; };
    trials.forEach(function (t) {
      if ((t.o === 'keep' || t.o === 'baseline') && t.m !== null && better(t.m, best, dir)) {
        if (best !== null) box(from, sx(t.n), best);
        best = t.m; from = sx(t.n);
      }
    });
    if (best !== null) box(from, right, best);
    return d;
  }
  function drawChart(model) {
    var box = clear($('chart'));
    var cmp = state.cmp && runs[state.cmp] ? runs[state.cmp] : null;
    var all = model.trials.concat(cmp ? cmp.trials : []);
    var measured = all.filter(function (t) { return t.m !== null && isFinite(t.m); });
    var maxN = Math.max(1, all.reduce(function (m, t) { return Math.max(m, t.n); }, 0));
    var lo = Infinity, hi = -Infinity;
    measured.forEach(function (t) { if (t.m < lo) lo = t.m; if (t.m > hi) hi = t.m; });
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (lo === hi) { lo -= Math.abs(lo) * 0.05 || 1; hi += Math.abs(hi) * 0.05 || 1; }
    var pad = (hi - lo) * 0.06; lo -= pad; hi += pad;
    var sx = function (n) { return L + (n / maxN) * (W - L - R); };
    var sy = function (m) { return T + (1 - (m - lo) / (hi - lo)) * (H - T - B); };
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'metric over trials' });
    root.appendChild(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, 'class': 'axis' }));
    root.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, 'class': 'axis' }));
    for (var i = 0; i <= 4; i++) {
      var v = lo + ((hi - lo) * i) / 4, ty = svg('text', { x: L - 6, y: sy(v) + 4, 'text-anchor': 'end', 'class': 'tick' });
      ty.textContent = fmt(Number(v.toPrecision(4))); root.appendChild(ty);
      var n = Math.round((maxN * i) / 4), tx = svg('text', { x: sx(n), y: H - B + 16, 'text-anchor': 'middle', 'class': 'tick' });
      tx.textContent = String(n); root.appendChild(tx);
    }
    var paths = { keep: '', baseline: '', discard: '', failed: '', flight: '' }, counts = { keep: 0, baseline: 0, discard: 0, failed: 0, flight: 0 };
    var edges = '', edgeCount = 0;
    model.trials.forEach(function (t) {
      var cls = t.o === null ? 'flight' : t.o === 'keep' || t.o === 'baseline' || t.o === 'discard' ? t.o : FAILED[t.o] ? 'failed' : null;
      if (cls === null) return;
      var y = t.m !== null && isFinite(t.m) ? sy(t.m) : H - B - 4;
      if (cls === 'flight' && t.m === null) return;
      paths[cls] += dot(sx(t.n), y);
      counts[cls]++;
      if (state.tree && t.from !== null && t.m !== null && model.byN[t.from] && model.byN[t.from].m !== null) {
        edges += 'M' + sx(t.from).toFixed(1) + ' ' + sy(model.byN[t.from].m).toFixed(1) + 'L' + sx(t.n).toFixed(1) + ' ' + y.toFixed(1);
        edgeCount++;
      }
    });
    if (edges) root.appendChild(svg('path', { d: edges, 'class': 'edge', 'data-count': edgeCount }));
    if (cmp) {
      var cd = '', cc = 0;
      cmp.trials.forEach(function (t) { if (t.m !== null && isFinite(t.m)) { cd += dot(sx(t.n), sy(t.m)); cc++; } });
      root.appendChild(svg('path', { d: cd, 'class': 'pt-cmp', 'data-count': cc }));
      var cb = bestLine(cmp.trials, cmp.metric.direction, sx, sy, sx(maxN));
      if (cb) root.appendChild(svg('path', { d: cb, 'class': 'best-cmp' }));
    }
    ['discard', 'failed', 'flight', 'baseline', 'keep'].forEach(function (cls) {
      if (paths[cls]) root.appendChild(svg('path', { d: paths[cls], 'class': 'pt-' + cls, 'data-count': counts[cls] }));
    });
    var bl = bestLine(model.trials, model.metric.direction, sx, sy, sx(maxN));
    // The noise band around the best so far: a point inside it is no evidence of a difference.
    if (bl && model.noise) root.insertBefore(svg('path', { d: noiseBand(model.trials, model.metric.direction, model.noise.band, sx, sy, sx(maxN)), 'class': 'noise' }), root.firstChild);
    if (bl) root.appendChild(svg('path', { d: bl, 'class': 'best' }));
    root.addEventListener('click', function (ev) {
      var box = root.getBoundingClientRect(), n = Math.round(((ev.clientX - box.left) / box.width * W - L) / (W - L - R) * maxN);
      var near = null;
      model.trials.forEach(function (t) { if (near === null || Math.abs(t.n - n) < Math.abs(near.n - n)) near = t; });
      if (near) openTrial(near.n);
    });
    box.appendChild(root);
    var legend = clear($('legend'));
    [['keep', 'kept'], ['baseline', 'baseline'], ['discard', 'discarded'], ['failed', 'crashed (at the bottom)'], ['best', 'best so far']].forEach(function (p) {
      legend.appendChild(el('span', {}, [el('span', { cls: 'sw ' + p[0] }), p[1]]));
    });
    if (model.noise) legend.appendChild(el('span', {}, [el('span', { cls: 'sw noise' }), 'noise band (±' + fmt(Number(model.noise.band.toPrecision(3))) + ')']));
    if (cmp) legend.appendChild(el('span', {}, [el('span', { cls: 'sw cmp' }), cmp.tag + ' (dashed: its best)']));
  }

  // ---- in flight
  function drawFlight(model) {
    var flying = model.trials.filter(function (t) { return t.o === null; });
    $('inflight-section').hidden = flying.length === 0;
    var body = clear($('inflight').tBodies[0]);
    flying.forEach(function (t) {
      var since = t.start ? Date.now() - Date.parse(t.start) : null;
      body.appendChild(el('tr', { 'data-n': t.n }, [
        el('td', { text: String(t.n) }), el('td', { text: t.slot === null ? '-' : String(t.slot) }), el('td', { cls: 'o-flight', text: t.ph || '-' }),
        el('td', { cls: 'elapsed', 'data-start': t.start || '', text: since === null ? '-' : secs(since) }), el('td', { cls: 'desc', text: t.d }),
      ]));
    });
  }
  setInterval(function () {
    var cells = document.querySelectorAll('#inflight td.elapsed');
    for (var i = 0; i < cells.length; i++) { var s = cells[i].getAttribute('data-start'); if (s) cells[i].textContent = secs(Date.now() - Date.parse(s)); }
  }, 1000);

  // ---- trial table
  var COLUMNS = [
    ['n', '#', function (t) { return t.n; }], ['o', 'outcome', function (t) { return outcomeOf(t); }], ['m', 'metric', function (t) { return t.m; }],
    ['d', 'description', function (t) { return t.d; }], ['from', 'from', function (t) { return t.from; }], ['slot', 'slot', function (t) { return t.slot; }],
    ['totalMs', 'time', function (t) { return t.totalMs; }], ['cost', 'cost', function (t) { return t.cost; }],
  ];
  function drawFilter(model) {
    var f = clear($('filter')), seen = {};
    model.trials.forEach(function (t) { seen[outcomeOf(t)] = (seen[outcomeOf(t)] || 0) + 1; });
    f.appendChild(el('option', { value: 'all', text: 'all outcomes (' + model.trials.length + ')' }));
    Object.keys(seen).sort().forEach(function (o) { f.appendChild(el('option', { value: o, text: o + ' (' + seen[o] + ')' })); });
    if (state.filter !== 'all' && !seen[state.filter]) state.filter = 'all';
    f.value = state.filter;
  }
  function drawTable(model) {
    var head = clear($('trials').tHead.rows[0]);
    COLUMNS.forEach(function (c) {
      head.appendChild(el('th', { text: c[1], cls: state.sort === c[0] ? 'sorted' + (state.up ? ' up' : '') : '', 'data-col': c[0], onclick: function () {
        if (state.sort === c[0]) state.up = !state.up; else { state.sort = c[0]; state.up = c[0] !== 'n'; }
        drawTable(model);
      } }));
    });
    var key = COLUMNS.filter(function (c) { return c[0] === state.sort; })[0][2];
    var rows = model.trials.filter(function (t) { return state.filter === 'all' || outcomeOf(t) === state.filter; });
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === y) return a.n - b.n;
      if (x === null) return 1; if (y === null) return -1;
      return (x < y ? -1 : 1) * (state.up ? 1 : -1);
    });
    var body = clear($('trials').tBodies[0]);
    rows.slice(0, state.limit).forEach(function (t) {
      body.appendChild(el('tr', { 'data-n': t.n, cls: state.sel === t.n ? 'sel' : '', onclick: function () { openTrial(t.n); } }, [
        el('td', { text: String(t.n) + (t.n === model.incumbent ? ' \u2605' : '') }), el('td', { cls: 'o-' + (t.o || 'flight'), text: outcomeOf(t) }), el('td', { text: fmt(t.m) }),
        el('td', { cls: 'desc', text: t.d }), el('td', { text: t.from === null ? '-' : String(t.from) }), el('td', { text: t.slot === null ? '-' : String(t.slot) }),
        el('td', { text: t.o === null ? '-' : secs(t.totalMs) }), el('td', { text: usd(t.cost) }),
      ]));
    });
    var shown = $('shown');
    clear(shown).appendChild(document.createTextNode(Math.min(rows.length, state.limit) + ' of ' + rows.length + ' shown'));
    if (rows.length > state.limit) shown.appendChild(el('button', { cls: 'more', text: 'show all', onclick: function () { state.limit = Infinity; drawTable(model); } }));
  }

  // ---- one trial
  var KINDS = [['diff', 'diff'], ['prompt', 'prompt'], ['transcript', 'agent transcript'], ['log', 'run log']];
  function openTrial(n) {
    state.sel = n;
    var model = runs[state.tag], t = model && model.byN[n];
    if (!t) return;
    var rowsNow = document.querySelectorAll('#trials tbody tr');
    for (var i = 0; i < rowsNow.length; i++) rowsNow[i].className = rowsNow[i].getAttribute('data-n') === String(n) ? 'sel' : '';
    var box = clear($('detail'));
    box.hidden = false;
    box.setAttribute('data-n', String(n));
    box.appendChild(el('h2', { text: 'Trial ' + n + ': ' + outcomeOf(t) + (t.o === null ? ' (' + t.ph + ')' : '') }));
    box.appendChild(el('div', { cls: 'desc', text: t.d || '(no description)' }));
    var tok = t.tok ? t.tok[0] + ' in, ' + t.tok[1] + ' out, ' + t.tok[2] + ' cache read, ' + t.tok[3] + ' cache write' : '-';
    var facts = [['metric', fmt(t.m)], ['from trial', t.from === null ? '-' : String(t.from)], ['slot', t.slot === null ? '-' : String(t.slot)], ['agent', secs(t.agentMs)],
      ['experiment', secs(t.runMs)], ['total', secs(t.totalMs)], ['tokens', tok], ['cost', usd(t.cost)], ['started', t.start || '-'], ['ended', t.end || '-']];
    if (t.re !== null) facts.push(['measures again', 'trial ' + t.re]);
    var dl = el('dl');
    facts.forEach(function (f) { dl.appendChild(el('dt', { text: f[0] })); dl.appendChild(el('dd', { text: f[1] })); });
    box.appendChild(dl);
    var tabs = el('div', { cls: 'tabs' });
    KINDS.forEach(function (k) { tabs.appendChild(el('button', { text: k[1], 'data-kind': k[0], cls: state.tab === k[0] ? 'on' : '', onclick: function () { state.tab = k[0]; openTrial(n); } })); });
    box.appendChild(tabs);
    var pre = el('pre', { id: 'artifact', 'data-kind': state.tab, text: 'loading...' });
    box.appendChild(pre);
    loadArtifact(state.tag, n, state.tab, function (text) { if (state.sel === n && pre.getAttribute('data-kind') === state.tab) showText(pre, text, state.tab); });
  }
  function showText(pre, text, kind) {
    clear(pre);
    if (text === null) { pre.textContent = '(none recorded for this trial)'; return; }
    if (kind !== 'diff') { pre.textContent = text; return; }
    text.split('\n').forEach(function (line) {
      var cls = line[0] === '+' && line.slice(0, 3) !== '+++' ? 'add' : line[0] === '-' && line.slice(0, 3) !== '---' ? 'del' : line.slice(0, 2) === '@@' ? 'hunk' : '';
      pre.appendChild(el('span', { cls: cls, text: line + '\n' }));
    });
  }
  function loadArtifact(tag, n, kind, done) {
    if (!LIVE) {
      var a = boot.artifacts && boot.artifacts[tag] && boot.artifacts[tag][n];
      done(a && typeof a[kind] === 'string' ? a[kind] : boot.artifactsOmitted ? '(not included in this report: ' + boot.artifactsOmitted + ')' : null);
      return;
    }
    fetch(api('/api/run/' + encodeURIComponent(tag) + '/trial/' + n + '/' + kind)).then(function (r) {
      if (r.status === 404) return null;
      if (!r.ok) return '(could not load: HTTP ' + r.status + ')';
      return r.text();
    }).then(done, function (e) { done('(could not load: ' + e + ')'); });
  }

`;
