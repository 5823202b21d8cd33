/**
 * The flame viewer's CSS and script, inlined into every page. Plain DOM: each frame is an
 * absolutely positioned div (class `frame`, data-name, data-depth), so tests and users can
 * inspect it. Icicle layout (root on top); click zooms into a frame, search highlights matches,
 * hover shows name, file:line, value, share and sample count; the colour can follow the JIT tier.
 */
export const VIEWER_CSS = `
body { margin: 0; font: 12px/1.4 system-ui, sans-serif; color: #222; }
header { display: flex; gap: 12px; align-items: center; padding: 8px 10px; border-bottom: 1px solid #ddd; flex-wrap: wrap; }
#chart { position: relative; margin: 8px 10px; }
.frame { position: absolute; height: 17px; box-sizing: border-box; border: 1px solid #fff; overflow: hidden;
  white-space: nowrap; text-overflow: ellipsis; padding: 0 3px; cursor: pointer; color: #111; font-size: 11px; line-height: 15px; }
.frame.ancestor { opacity: 0.55; }
.frame.match { outline: 2px solid #7b2cbf; outline-offset: -2px; background: #e0b3ff !important; }
#tip { position: fixed; background: #fffbe6; border: 1px solid #bbb; padding: 4px 6px; pointer-events: none; max-width: 60ch; box-shadow: 0 1px 4px #0003; }
#legend { margin: 0 10px 10px; color: #555; }
#legend span { display: inline-block; padding: 0 6px; margin-right: 6px; }
`;

export const VIEWER_JS = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('data').textContent);
  var chart = document.getElementById('chart'), tip = document.getElementById('tip');
  var typeSel = document.getElementById('type'), colourSel = document.getElementById('colour');
  var search = document.getElementById('search'), status = document.getElementById('status');
  var ROW = 18, MIN_PX = 0.5;
  var TIERS = { ignition: '#8ecae6', sparkplug: '#80cbc4', maglev: '#ffb703', turbofan: '#fb8500', '': '#ccc' };
  var col = data.initial, zoom = data.root, path = [data.root];
  var SAMPLES = data.types.indexOf('samples/count');
  document.getElementById('title').textContent = data.title;
  data.types.forEach(function (t, i) { var o = document.createElement('option'); o.value = i; o.textContent = t; typeSel.appendChild(o); });
  typeSel.value = String(col);
  typeSel.disabled = data.types.length < 2;

  function hue(name) { var h = 0; for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0; return h; }
  function colourOf(node) {
    if (colourSel.value === 'tier') {
      var best = '', w = 0;
      for (var k in node.t) if (node.t[k] > w) { w = node.t[k]; best = k; }
      return TIERS[best] || TIERS[''];
    }
    if (/^\\(/.test(node.n)) return '#d9d9d9';
    var h = hue(node.n);
    return 'hsl(' + (10 + h % 40) + ',' + (70 + h % 20) + '%,' + (60 + (h >> 8) % 15) + '%)';
  }
  function unit() { return data.types[col].split('/')[1] || ''; }
  function fmt(v) {
    if (unit() === 'nanoseconds') return v >= 1e9 ? (v / 1e9).toFixed(2) + ' s' : (v / 1e6).toFixed(2) + ' ms';
    return String(Math.round(v * 100) / 100);
  }
  function matcher() {
    var q = search.value;
    if (!q) return null;
    try { return new RegExp(q); } catch (e) { var s = q.toLowerCase(); return { test: function (n) { return n.toLowerCase().indexOf(s) >= 0; } }; }
  }

  function render() {
    chart.textContent = '';
    var width = chart.clientWidth, re = matcher(), matched = 0, total = data.root.v[col], maxDepth = 0;
    // Ancestors of the zoomed frame: full width, dimmed, above it.
    for (var a = 0; a < path.length - 1; a++) place(path[a], a, 0, width, 'ancestor');
    var base = path.length - 1, scale = zoom.v[col] > 0 ? width / zoom.v[col] : 0;
    (function walk(node, depth, x) {
      var w = node.v[col] * scale;
      if (w < MIN_PX) return;
      if (depth > maxDepth) maxDepth = depth;
      var el = place(node, depth, x, w, '');
      if (re && re.test(node.n)) { el.classList.add('match'); matched += node.v[col]; }
      var cx = x;
      node.c.slice().sort(function (p, q) { return p.n < q.n ? -1 : p.n > q.n ? 1 : 0; }).forEach(function (c) { walk(c, depth + 1, cx); cx += c.v[col] * scale; });
    })(zoom, base, 0);
    chart.style.height = (maxDepth + 1) * ROW + 'px';
    status.textContent = re ? 'matched ' + (total ? (100 * matched / total).toFixed(1) : '0') + '% of ' + fmt(total) : fmt(total) + ' total';
  }

  function place(node, depth, x, w, cls) {
    var el = document.createElement('div');
    el.className = 'frame' + (cls ? ' ' + cls : '');
    el.style.left = x + 'px'; el.style.width = w + 'px'; el.style.top = depth * ROW + 'px';
    el.style.background = colourOf(node);
    el.textContent = w > 30 ? node.n : '';
    el.dataset.name = node.n; el.dataset.depth = String(depth);
    el._node = node;
    chart.appendChild(el);
    return el;
  }

  function findPath(target) {
    var out = null;
    (function walk(node, trail) {
      if (out) return;
      trail.push(node);
      if (node === target) out = trail.slice();
      else node.c.forEach(function (c) { walk(c, trail); });
      trail.pop();
    })(data.root, []);
    return out || [data.root];
  }

  chart.addEventListener('click', function (e) {
    var el = e.target.closest('.frame');
    if (!el) return;
    zoom = el._node; path = findPath(zoom); render();
  });
  chart.addEventListener('mousemove', function (e) {
    var el = e.target.closest('.frame');
    if (!el) { tip.hidden = true; return; }
    var n = el._node, total = data.root.v[col];
    var tiers = Object.keys(n.t).map(function (k) { return k + ' ' + (100 * n.t[k] / n.v[0]).toFixed(0) + '%'; }).join(', ');
    var count = SAMPLES >= 0 && SAMPLES !== col ? ' · ' + n.v[SAMPLES] + ' samples' : '';
    tip.textContent = n.n + (n.f ? '  ' + n.f : '') + '\\n' + fmt(n.v[col]) + ' (' + (total ? (100 * n.v[col] / total).toFixed(2) : '0') + '%)' + count + (tiers ? '\\n' + tiers : '');
    tip.style.whiteSpace = 'pre'; tip.hidden = false;
    tip.style.left = Math.min(e.clientX + 12, window.innerWidth - tip.offsetWidth - 4) + 'px';
    tip.style.top = e.clientY + 14 + 'px';
  });
  chart.addEventListener('mouseleave', function () { tip.hidden = true; });
  typeSel.addEventListener('change', function () { col = Number(typeSel.value); render(); });
  colourSel.addEventListener('change', function () { render(); legend(); });
  search.addEventListener('input', render);
  document.getElementById('reset').addEventListener('click', function () { zoom = data.root; path = [data.root]; render(); });
  window.addEventListener('resize', render);
  function legend() {
    var l = document.getElementById('legend');
    l.textContent = '';
    if (colourSel.value !== 'tier') return;
    Object.keys(TIERS).forEach(function (k) { var s = document.createElement('span'); s.style.background = TIERS[k]; s.textContent = k || 'no tier'; l.appendChild(s); });
  }
  render();
})();
`;
