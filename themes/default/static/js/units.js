// The visitor's km/mi preference. Pages are pre-rendered in the instance's units; every
// converted figure carries its quantity and SI value (data-q, data-si), and this rewrites
// the text with the rules of generator/src/site/units.rs (`format`). Tables whose rows
// differ per system (splits per km / per mile) are both in the page and CSS shows the one
// matching <html data-units>. The choice is kept in localStorage ('bincio-units').
(function () {
  'use strict';
  var root = document.documentElement;
  var M_PER_MI = 1609.344, M_PER_FT = 0.3048, M_PER_YD = 0.9144;
  function clock(s) { s = Math.round(s); var m = Math.floor(s / 60), r = s % 60; return m + ':' + (r < 10 ? '0' : '') + r; }
  function fmt(q, si, imp) {
    var v;
    if (q === 'distance') { v = imp ? si / M_PER_MI : si / 1000; return (v < 10 ? v.toFixed(2) : v.toFixed(1)) + (imp ? ' mi' : ' km'); }
    if (q === 'elevation') { return Math.round(imp ? si / M_PER_FT : si) + (imp ? ' ft' : ' m'); }
    if (q === 'speed') { return (imp ? si * 1000 / M_PER_MI : si).toFixed(1) + (imp ? ' mph' : ' km/h'); }
    if (q === 'pace' || q === 'pace100') {
      if (!(si > 0.5)) { return '—'; }
      var len = q === 'pace' ? (imp ? M_PER_MI : 1000) : (imp ? 100 * M_PER_YD : 100);
      var unit = q === 'pace' ? (imp ? ' /mi' : ' /km') : (imp ? ' /100 yd' : ' /100 m');
      return clock(len / (si / 3.6)) + unit;
    }
    return String(si);
  }
  function apply() {
    var imp = root.getAttribute('data-units') === 'imperial';
    Array.prototype.forEach.call(document.querySelectorAll('[data-q][data-si]'), function (el) {
      var si = parseFloat(el.getAttribute('data-si'));
      if (isFinite(si)) { el.textContent = fmt(el.getAttribute('data-q'), si, imp); }
    });
  }
  window.bincioUnits = { fmt: fmt, imperial: function () { return root.getAttribute('data-units') === 'imperial'; } };
  if (root.getAttribute('data-units') !== root.getAttribute('data-units-default')) { apply(); }
  Array.prototype.forEach.call(document.querySelectorAll('[data-units-toggle]'), function (b) {
    b.addEventListener('click', function () {
      var next = root.getAttribute('data-units') === 'imperial' ? 'metric' : 'imperial';
      root.setAttribute('data-units', next);
      try { localStorage.setItem('bincio-units', next); } catch (e) { /* private mode */ }
      apply();
      document.dispatchEvent(new CustomEvent('bincio:units', { detail: next }));
    });
  });
}());
