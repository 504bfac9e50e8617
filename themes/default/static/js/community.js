// Community: add "This week" (from Monday) and "This month" leaderboards, computed in the
// visitor's local time from the daily totals embedded in the page. The all-time and yearly
// tables are server-rendered and work without this script.
(function () {
  'use strict';
  var src = document.getElementById('community-recent');
  var box = document.querySelector('.periods');
  if (!src || !box) { return; }
  var users = [];
  try { users = JSON.parse(src.textContent || '[]'); } catch (e) { return; }
  function iso(d) { return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0'); }
  var now = new Date();
  var monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7));
  var first = new Date(now.getFullYear(), now.getMonth(), 1);
  function km(m) { var k = m / 1000; return (k < 10 ? k.toFixed(2) : k.toFixed(1)) + ' km'; }
  function dur(s) { var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60); return h > 0 ? h + 'h ' + String(m).padStart(2, '0') + 'm' : m + 'm ' + String(Math.floor(s % 60)).padStart(2, '0') + 's'; }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  function table(key, label, from) {
    var rows = users.map(function (u) {
      var t = [0, 0, 0, 0];
      u.days.forEach(function (d) { if (d[0] >= from) { for (var i = 0; i < 4; i++) { t[i] += d[i + 1]; } } });
      return { u: u, t: t };
    }).sort(function (a, b) { return b.t[1] - a.t[1] || (a.u.handle < b.u.handle ? -1 : 1); });
    var tot = [0, 0, 0, 0];
    rows.forEach(function (r) { for (var i = 0; i < 4; i++) { tot[i] += r.t[i]; } });
    var input = document.createElement('input');
    input.type = 'radio'; input.name = 'period'; input.id = 'p-' + key;
    var lab = document.createElement('label');
    lab.className = 'chip'; lab.htmlFor = input.id; lab.textContent = label;
    var sec = document.createElement('section');
    sec.className = 'period'; sec.setAttribute('data-period', key);
    sec.innerHTML = '<div class="year-cards"><div class="card"><span class="muted">Activities</span><strong>' + tot[0] + '</strong></div>' +
      '<div class="card"><span class="muted">Distance</span><strong>' + km(tot[1]) + '</strong></div>' +
      '<div class="card"><span class="muted">Elevation</span><strong>' + Math.round(tot[2] / 1000) + ' km↑</strong></div>' +
      '<div class="card"><span class="muted">Time</span><strong>' + dur(tot[3]) + '</strong></div></div>' +
      '<div class="table-scroll" tabindex="0"><table class="leaderboard"><thead><tr><th>#</th><th>Athlete</th><th>Activities</th><th>Distance</th><th>Elevation</th><th>Time</th></tr></thead><tbody>' +
      rows.map(function (r, i) {
        return '<tr><td>' + (i + 1) + '</td><td><a href="/u/' + encodeURIComponent(r.u.handle) + '/">' + esc(r.u.name) + '</a> <span class="muted">@' + esc(r.u.handle) + '</span></td><td>' + r.t[0] + '</td><td>' + km(r.t[1]) + '</td><td>' + Math.round(r.t[2]) + ' m</td><td>' + dur(r.t[3]) + '</td></tr>';
      }).join('') + '</tbody></table></div>';
    return [input, lab, sec];
  }
  var parts = [table('week', 'This week', iso(monday)), table('month', 'This month', iso(first))];
  var firstChild = box.firstChild;
  parts.forEach(function (p) { box.insertBefore(p[0], firstChild); box.insertBefore(p[1], firstChild); box.appendChild(p[2]); });
}());
