/**
 * The flame viewer's CSS and script, inlined into every page. Plain DOM: each frame is an
 * absolutely positioned div (class `frame`, data-name, data-depth; a benchmark's node also has
 * class `bench` and data-kind="benchmark"), so tests and users can inspect it. Icicle layout
 * (root on top); click zooms into a frame, search highlights matches by name or file:line,
 * hover shows total and self (value, share, samples), file:line, the share of its benchmark and
 * the JIT tiers; the colour can follow the tier, or on a differential page (perfprofile check
 * --flame-diff) each frame's change per op (`d`, with a tooltip note `x`). Every name reaches
 * the page as textContent.
 */
export const VIEWER_CSS = `
body { margin: 0; font: 12px/1.4 system-ui, sans-serif; color: #222; }
header { display: flex; gap: 12px; align-items: center; padding: 8px 10px; border-bottom: 1px solid #ddd; flex-wrap: wrap; }
#search { width: 24ch; }
#status { color: #444; }
#chart { position: relative; margin: 8px 10px; }
.frame { position: absolute; height: 17px; box-sizing: border-box; border: 1px solid #fff; overflow: hidden;
  white-space: nowrap; text-overflow: ellipsis; padding: 0 3px; cursor: pointer; color: #111; font-size: 11px; line-height: 15px; }
.frame.bench { font-weight: 600; color: #0b2545; }
.frame.ancestor { opacity: 0.55; }
#chart.searching .frame:not(.match) { opacity: 0.45; }
.frame.match { outline: 2px solid #7b2cbf; outline-offset: -2px; background: #e0b3ff !important; opacity: 1 !important; }
#tip { position: fixed; background: #fffbe6; border: 1px solid #bbb; padding: 5px 7px; pointer-events: none; max-width: 80ch; box-shadow: 0 1px 4px #0003; }
#tip .name { font-weight: 600; overflow-wrap: anywhere; }
#tip .file { color: #555; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
#tip table { border-collapse: collapse; margin: 3px 0; font-variant-numeric: tabular-nums; }
#tip th { font-weight: normal; color: #666; text-align: right; padding: 0 0 0 12px; }
#tip td { text-align: right; padding: 0 0 0 12px; }
#tip th:first-child, #tip td:first-child { text-align: left; padding: 0; }
#tip .note { color: #555; }
#legend { margin: 0 10px 10px; color: #555; }
#legend span { display: inline-block; padding: 0 6px; margin-right: 6px; }
`;

export const VIEWER_JS = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('data').textContent);
  function $(id) { return document.getElementById(id); }
  var chart = $('chart'), tip = $('tip'), typeSel = $('type'), colourSel = $('colour'), search = $('search'), status = $('status');
  var ROW = 18, MIN_PX = 0.5, BENCH = '#b4d0f0';
  var TIERS = { ignition: '#8ecae6', sparkplug: '#80cbc4', maglev: '#ffb703', turbofan: '#fb8500', '': '#ccc' };
  var root = data.root, col = data.initial, zoom = root, benchmarks = 0;
  var SAMPLES = data.types.indexOf('samples/count');
  $('title').textContent = data.title;
  data.types.forEach(function (t, i) { var o = document.createElement('option'); o.value = i; o.textContent = t; typeSel.appendChild(o); });
  typeSel.value = String(col);
  typeSel.disabled = data.types.length < 2;

  // Once: parent links (zoom path), each frame's benchmark (tooltip share), children by name.
  (function link(node, parent, bench) {
    node.p = parent; node.b = bench;
    if (node.k === 'benchmark') benchmarks++;
    node.c.sort(function (x, y) { return x.n < y.n ? -1 : x.n > y.n ? 1 : 0; });
    for (var i = 0; i < node.c.length; i++) link(node.c[i], node, node.k === 'benchmark' ? node : bench);
  })(root, null, null);

  function self(n, i) { var s = n.v[i]; for (var j = 0; j < n.c.length; j++) s -= n.c[j].v[i]; return s; }
  function what(i) { return data.types[i].split('/')[0]; }
  function group(v) { return String(Math.round(v)).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ','); }
  function fmt(v, i) {
    var u = data.types[i].split('/')[1] || '';
    if (u === 'nanoseconds') return v >= 1e9 ? (v / 1e9).toFixed(2) + ' s' : (v / 1e6).toFixed(2) + ' ms';
    // Per-op times of a differential page: ns to ms.
    if (u === 'ns') return v >= 1e6 ? (v / 1e6).toFixed(2) + ' ms' : v >= 1e3 ? (v / 1e3).toFixed(2) + ' µs' : v.toFixed(0) + ' ns';
    if (u === 'bytes') return v >= 1048576 ? (v / 1048576).toFixed(2) + ' MiB' : v >= 1024 ? (v / 1024).toFixed(1) + ' KiB' : group(v) + ' B';
    return group(v);
  }
  function pct(a, b) { return b ? (100 * a / b).toFixed(2) + '%' : '-'; }

  function hue(name) { var h = 0; for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0; return h; }
  // Differential pages: node.d is the frame's change per op, -1 (all gone) … +1 (all new).
  function changeColour(d) {
    if (d === undefined) return '#d9d9d9';
    var a = Math.min(1, Math.abs(d));
    return d >= 0 ? 'hsl(4,' + (40 + 50 * a) + '%,' + (92 - 42 * a) + '%)' : 'hsl(214,' + (40 + 50 * a) + '%,' + (92 - 42 * a) + '%)';
  }
  function colourOf(node) {
    if (colourSel.value === 'change') return changeColour(node.d);
    if (node.k === 'benchmark') return BENCH;
    if (colourSel.value === 'tier') {
      var best = '', w = 0;
      for (var k in node.t) if (node.t[k] > w) { w = node.t[k]; best = k; }
      return TIERS[best] || TIERS[''];
    }
    if (/^\\(/.test(node.n)) return '#d9d9d9';
    var h = hue(node.n);
    return 'hsl(' + (10 + h % 40) + ',' + (70 + h % 20) + '%,' + (60 + (h >> 8) % 15) + '%)';
  }

  // Smart case: a query in lower case ignores case. Not a valid regex (e.g. "(garbage"): plain text.
  function matcher() {
    var q = search.value, fold = q === q.toLowerCase(), re = null;
    if (!q) return null;
    try { re = new RegExp(q, fold ? 'i' : ''); } catch (e) { /* plain text below */ }
    var m = re ? function (s) { return s !== '' && re.test(s); }
      : function (s) { return (fold ? s.toLowerCase() : s).indexOf(fold ? q.toLowerCase() : q) >= 0; };
    var match = function (n) { return n !== root && (m(n.n) || m(n.f)); };
    match.plain = !re;
    return match;
  }
  // A matched frame's samples count once, however many matches sit above or below it.
  function matchedTotals(match) {
    var out = { frames: 0, value: 0, samples: 0 };
    (function walk(n, inside) {
      var hit = match(n);
      if (hit) out.frames++;
      if (hit && !inside) { out.value += n.v[col]; if (SAMPLES >= 0) out.samples += n.v[SAMPLES]; }
      for (var i = 0; i < n.c.length; i++) walk(n.c[i], inside || hit);
    })(root, false);
    return out;
  }

  function render() {
    chart.textContent = '';
    var width = chart.clientWidth, match = matcher(), maxDepth = 0, path = [];
    for (var a = zoom.p; a; a = a.p) path.unshift(a);
    chart.classList.toggle('searching', !!match);
    // Ancestors of the zoomed frame: full width, dimmed, above it.
    path.forEach(function (n, depth) { place(n, depth, 0, width, 'ancestor', match); });
    var scale = zoom.v[col] > 0 ? width / zoom.v[col] : 0;
    (function walk(node, depth, x) {
      var w = node.v[col] * scale;
      if (w < MIN_PX) return;
      if (depth > maxDepth) maxDepth = depth;
      place(node, depth, x, w, '', match);
      for (var i = 0, cx = x; i < node.c.length; i++) { walk(node.c[i], depth + 1, cx); cx += node.c[i].v[col] * scale; }
    })(zoom, path.length, 0);
    chart.style.height = (Math.max(maxDepth, path.length) + 1) * ROW + 'px';
    status.textContent = match ? matchedText(matchedTotals(match), match.plain) : totalText();
  }
  function totalText() {
    var parts = [fmt(root.v[col], col) + ' ' + what(col) + ' total'];
    if (SAMPLES >= 0 && SAMPLES !== col) parts.push(fmt(root.v[SAMPLES], SAMPLES) + ' samples');
    if (benchmarks) parts.push(benchmarks + (benchmarks === 1 ? ' benchmark' : ' benchmarks'));
    return parts.join(' · ');
  }
  function matchedText(m, plain) {
    var parts = SAMPLES >= 0
      ? ['matched ' + fmt(m.samples, SAMPLES) + ' of ' + fmt(root.v[SAMPLES], SAMPLES) + ' samples (' + pct(m.samples, root.v[SAMPLES]) + ')']
      : ['matched ' + pct(m.value, root.v[col]) + ' of ' + fmt(root.v[col], col) + ' ' + what(col)];
    if (SAMPLES >= 0 && SAMPLES !== col) parts.push(fmt(m.value, col) + ' ' + what(col));
    parts.push(m.frames + (m.frames === 1 ? ' frame' : ' frames') + (plain ? ' (plain text, not a valid regex)' : ''));
    return parts.join(' · ');
  }

  function place(node, depth, x, w, cls, match) {
    var el = document.createElement('div');
    el.className = 'frame' + (node.k === 'benchmark' ? ' bench' : '') + (cls ? ' ' + cls : '') + (match && match(node) ? ' match' : '');
    el.style.left = x + 'px'; el.style.width = w + 'px'; el.style.top = depth * ROW + 'px';
    el.style.background = colourOf(node);
    el.textContent = w > 30 ? node.n : '';
    el.dataset.name = node.n; el.dataset.depth = String(depth);
    if (node.k) el.dataset.kind = node.k;
    el._node = node;
    chart.appendChild(el);
    return el;
  }

  function add(parent, tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined) el.textContent = text;
    parent.appendChild(el);
    return el;
  }
  function fillTip(n) {
    tip.textContent = '';
    var total = root.v[col], count = SAMPLES >= 0 && SAMPLES !== col;
    add(tip, 'div', 'name', n === root ? 'all samples' : n.n);
    if (n.k === 'benchmark') add(tip, 'div', 'file', 'benchmark');
    else if (n.f) add(tip, 'div', 'file', n.f);
    var table = add(tip, 'table'), head = add(table, 'tr');
    ['', what(col), 'of all'].concat(count ? ['samples'] : []).forEach(function (h) { add(head, 'th', '', h); });
    [['total', n.v[col], count ? n.v[SAMPLES] : 0], ['self', self(n, col), count ? self(n, SAMPLES) : 0]].forEach(function (r) {
      var tr = add(table, 'tr');
      add(tr, 'td', '', r[0]); add(tr, 'td', '', fmt(r[1], col)); add(tr, 'td', '', pct(r[1], total));
      if (count) add(tr, 'td', '', fmt(r[2], SAMPLES));
    });
    if (n.x) add(tip, 'div', 'note change', n.x);
    if (n.b) add(tip, 'div', 'note bench-share', 'of ' + n.b.n + ': ' + pct(n.v[col], n.b.v[col]) + ' total, ' + pct(self(n, col), n.b.v[col]) + ' self');
    var tiers = Object.keys(n.t).sort(function (x, y) { return n.t[y] - n.t[x]; });
    if (tiers.length && n.v[0]) add(tip, 'div', 'note tiers', 'tier: ' + tiers.map(function (k) { return k + ' ' + (100 * n.t[k] / n.v[0]).toFixed(0) + '%'; }).join(', '));
  }

  chart.addEventListener('click', function (e) {
    var el = e.target.closest('.frame');
    if (!el) return;
    zoom = el._node; render();
  });
  chart.addEventListener('mousemove', function (e) {
    var el = e.target.closest('.frame');
    if (!el) { tip.hidden = true; return; }
    if (tip._node !== el._node) { fillTip(el._node); tip._node = el._node; }
    tip.hidden = false;
    tip.style.left = Math.max(4, Math.min(e.clientX + 12, window.innerWidth - tip.offsetWidth - 4)) + 'px';
    tip.style.top = (e.clientY + 14 + tip.offsetHeight > window.innerHeight ? Math.max(4, e.clientY - tip.offsetHeight - 8) : e.clientY + 14) + 'px';
  });
  chart.addEventListener('mouseleave', function () { tip.hidden = true; });
  typeSel.addEventListener('change', function () {
    col = Number(typeSel.value);
    if (!(zoom.v[col] > 0)) zoom = root;
    tip._node = null; render();
  });
  colourSel.addEventListener('change', function () { render(); legend(); });
  search.addEventListener('input', render);
  function reset() { zoom = root; render(); }
  $('reset').addEventListener('click', reset);
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && e.target !== search) reset(); });
  window.addEventListener('resize', render);
  function legend() {
    var l = $('legend');
    l.textContent = '';
    if (colourSel.value === 'change') {
      [['slower per op', 0.8], ['unchanged', 0], ['faster per op', -0.8]].forEach(function (c) { var s = add(l, 'span', '', c[0]); s.style.background = changeColour(c[1]); });
      if (data.diff) add(l, 'span', 'note', data.diff);
      return;
    }
    if (colourSel.value !== 'tier') return;
    Object.keys(TIERS).forEach(function (k) { var s = add(l, 'span', '', k || 'no tier'); s.style.background = TIERS[k]; });
  }
  legend();
  render();
})();
`;
