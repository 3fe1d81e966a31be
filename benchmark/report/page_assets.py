"""The scorecard page's inline style sheet and script (no network, no CDN)."""

CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header,main,footer{padding:0 1.5rem}
.banner{background:#b00020;color:#fff;font-size:1.8rem;font-weight:bold;text-align:center;
padding:.8rem;position:sticky;top:0;z-index:10}
p.data-label{font-weight:bold;margin:0 0 .6rem}
nav.toc{columns:3 16rem;font-size:.9rem;background:#fff;border:1px solid #ddd;padding:.5rem 1rem}
nav.toc ol{margin:0}nav.toc ul{margin:0;padding-left:1rem;font-size:.8rem}
section{background:#fff;margin:1rem 0;padding:.5rem 1rem;border:1px solid #ddd;overflow-x:auto}
figure{margin:.5rem 0;display:inline-block;vertical-align:top}img{max-width:100%}
figcaption{font-size:.8rem;color:#555;max-width:60rem}
.missing{color:#8a6d3b;background:#fcf8e3;padding:.4rem .6rem;border-left:4px solid #e0c36a}
table{border-collapse:collapse;font-size:.8rem}th,td{border:1px solid #ddd;padding:2px 5px}
.grid td{text-align:right}.grid td.na{color:#888;background:#eee;text-align:center}
.grid thead th{font-weight:600;vertical-align:bottom}.grid thead small{font-weight:400;color:#666}
table.sortable thead th{cursor:pointer;background:#f0f0f0;position:sticky;top:0}
.model-card{display:none;margin-top:.5rem}.model-card:target,.model-card.shown{display:block}
td.reason{text-align:left;color:#555;max-width:40rem}
#grid-filter{margin:.3rem 0;padding:2px 4px}
footer dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 1rem;font-size:.8rem}
footer pre{margin:0;white-space:pre-wrap}
"""

JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('thead th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir > 0 ? 'asc' : 'desc';
      function key(row) {
        var cell = row.cells[col], v = cell.dataset.v;
        return v === undefined ? cell.textContent : (v === '' ? NaN : parseFloat(v));
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x === 'number' || typeof y === 'number') {
          if (isNaN(x)) return 1; if (isNaN(y)) return -1; return dir * (x - y);
        }
        return dir * String(x).localeCompare(String(y));
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
var filter = document.getElementById('grid-filter');
if (filter) {
  filter.addEventListener('input', function () {
    var text = filter.value.toLowerCase();
    document.querySelectorAll('#summary-grid tbody tr').forEach(function (row) {
      row.style.display = row.dataset.source.toLowerCase().indexOf(text) >= 0 ? '' : 'none';
    });
  });
}
var chooser = document.getElementById('model-select');
function showModel(id) {
  document.querySelectorAll('.model-card').forEach(function (card) {
    card.classList.toggle('shown', card.id === id);
  });
  if (chooser && id) { chooser.value = id; }
}
if (chooser) {
  chooser.addEventListener('change', function () { location.hash = chooser.value; showModel(chooser.value); });
}
window.addEventListener('hashchange', function () { showModel(location.hash.slice(1)); });
if (location.hash.indexOf('#model-') === 0) { showModel(location.hash.slice(1)); }
"""
