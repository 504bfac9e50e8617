// Activity page: interactive Leaflet map of the published track (the server-rendered SVG
// outline stays underneath until the map is ready, and the track is drawn even when tiles
// cannot load), and chart hover linked to a marker on the map.
// The owner's "set your zones" form (shown by site.js to the owner only): zones derived
// from the maximum heart rate and the FTP by site.js's `bincioZones`, saved with
// POST /api/athlete, which queues the rebuild that draws the time-in-zone bars.
(function () {
  'use strict';
  var form = document.querySelector('form[data-zones-form]');
  if (!form) { return; }
  function status(text, ok) {
    var s = form.querySelector('.form-status');
    if (s) { s.textContent = text; s.className = 'form-status ' + (ok ? 'ok' : 'error'); }
  }
  var maxHr = form.querySelector('input[name=max_hr]'), ftp = form.querySelector('input[name=ftp_w]');
  // Prefilled once site.js knows the visitor is the owner (it then shows the form): asking
  // /api/athlete for anyone else would only earn a 401.
  document.addEventListener('bincio:me', function () {
    var owned = form.closest('[data-owner]');
    if (!owned || owned.hidden) { return; }
    fetch('/api/athlete', { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
      if (!j) { return; }
      if (maxHr && j.max_hr) { maxHr.value = j.max_hr; }
      if (ftp && j.ftp_w) { ftp.value = j.ftp_w; }
    }, function () { /* the form stays empty */ });
  });
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = {};
    if (maxHr) { body.max_hr = Math.round(+maxHr.value); body.hr_zones = window.bincioZones('hr_zones', body.max_hr); }
    if (ftp) { body.ftp_w = Math.round(+ftp.value); body.power_zones = window.bincioZones('power_zones', body.ftp_w); }
    status('Saving…', true);
    fetch('/api/athlete', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (!res.ok) { status((res.j && (res.j.message || res.j.error)) || 'Could not save the zones', false); return; }
        status('Saved: the zones appear once the site is rebuilt.', true);
      }, function () { status('Could not reach the server', false); });
  });
}());

(function () {
  'use strict';
  var el = document.getElementById('map');
  if (!el) { return; }
  var data = {};
  try { data = JSON.parse(el.getAttribute('data-map') || '{}'); } catch (e) { return; }
  var ts = null, map = null, marker = null;

  function loadTimeseries() {
    if (!data.timeseries_url) { return Promise.resolve(null); }
    return fetch(data.timeseries_url).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  }

  if (window.L && data.track_url && !el.hidden) {
    var outline = el.innerHTML;
    fetch(data.track_url).then(function (r) { return r.json(); }).then(function (gj) {
      el.innerHTML = '';
      map = L.map(el, { zoomControl: true, attributionControl: true });
      // Tiles are optional: the track is a vector layer and shows without them.
      if (data.tile_url) {
        L.tileLayer(data.tile_url, { maxZoom: 18, attribution: data.tile_attribution || '' })
          .on('load', function () { el.classList.add('has-tiles'); })
          .on('tileerror', function () { el.classList.add('no-tiles'); })
          .addTo(map);
      }
      // A vector layer needs a view before it is added: fit first, then add.
      var line = L.geoJSON(gj, { style: { color: data.color || '#60a5fa', weight: 3, opacity: 0.95 } });
      map.fitBounds(line.getBounds(), { padding: [20, 20], animate: false });
      line.addTo(map);
      var coords = (gj.geometry && gj.geometry.coordinates) || [];
      if (coords.length) {
        var s = coords[0], e = coords[coords.length - 1];
        L.circleMarker([s[1], s[0]], { radius: 6, color: '#fff', weight: 2, fillColor: '#4ade80', fillOpacity: 1 }).addTo(map);
        L.circleMarker([e[1], e[0]], { radius: 6, color: '#fff', weight: 2, fillColor: '#f87171', fillOpacity: 1 }).addTo(map);
      }
      el.setAttribute('data-map-ready', '1');
    }).catch(function (err) {
      // Keep showing the server-rendered outline.
      if (!map) { el.innerHTML = outline; }
      if (window.console) { console.warn('map: ' + err); }
    });
  }

  // Chart hover → one line across the whole stack, one readout with units, and the map
  // marker. Every chart of the stack has the same width and margins (svg.rs, line_chart),
  // so a pointer fraction of the plot area is the same x in all of them; the nearest
  // timeseries sample to that x gives the values and the position.
  var charts = Array.prototype.slice.call(document.querySelectorAll('svg.chart[data-x0]'));
  if (!charts.length) { return; }
  var readout = document.querySelector('[data-readout]');
  var tsPromise = null;
  function ensureTs() { if (!tsPromise) { tsPromise = loadTimeseries().then(function (t) { ts = t; prepare(); return t; }); } return tsPromise; }
  var dist = null;
  // The same distance series as the page's distance axis (figures.rs, distance_m): speed
  // × Δt, in the axis unit.
  function prepare() {
    if (!ts || !ts.t) { return; }
    var per = data.units === 'imperial' ? 1609.344 : 1000;
    var acc = 0; dist = [0];
    for (var i = 1; i < ts.t.length; i++) {
      var v = (ts.speed_kmh && ts.speed_kmh[i]) || 0; if (v > 150) { v = 0; }
      acc += v / 3.6 * Math.max(0, ts.t[i] - ts.t[i - 1]) / per; dist.push(acc);
    }
  }
  function nearest(arr, x) {
    var lo = 0, hi = arr.length - 1;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid] < x) { lo = mid + 1; } else { hi = mid; } }
    return lo;
  }
  function units() { return window.bincioUnits; }
  function clock(s) {
    s = Math.round(s); var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return (h ? h + ':' + (m < 10 ? '0' : '') : '') + m + ':' + (r < 10 ? '0' : '') + r;
  }
  // "12.40 km · 0:41:10 · 245 m · 31.2 km/h · 152 bpm · 240 W · 88 rpm", in the visitor's units.
  function describe(i) {
    var u = units(), imp = u ? u.imperial() : data.units === 'imperial', parts = [];
    function q(name, si) { return u ? u.fmt(name, si, imp) : String(Math.round(si * 10) / 10); }
    if (dist) { parts.push(q('distance', dist[i] * (data.units === 'imperial' ? 1609.344 : 1000))); }
    parts.push(clock(ts.t[i] - ts.t[0]));
    var e = ts.elevation_m && ts.elevation_m[i]; if (e != null) { parts.push(q('elevation', e)); }
    var sp = ts.speed_kmh && ts.speed_kmh[i]; if (sp != null) { parts.push(q(data.speed_q || 'speed', sp)); }
    var hr = ts.hr_bpm && ts.hr_bpm[i]; if (hr != null) { parts.push(hr + ' bpm'); }
    var pw = ts.power_w && ts.power_w[i]; if (pw != null) { parts.push(pw + ' W'); }
    var cd = ts.cadence_rpm && ts.cadence_rpm[i]; if (cd != null && data.cadence) { parts.push(Math.round(cd * data.cadence[0]) + ' ' + data.cadence[1]); }
    return parts.join(' · ');
  }
  function setCursors(axis, px) {
    charts.forEach(function (c) {
      var cur = c.querySelector('.cursor');
      var same = c.parentNode && c.parentNode.getAttribute('data-axis') === axis;
      if (cur) { cur.setAttribute('x1', same ? px : -10); cur.setAttribute('x2', same ? px : -10); }
    });
  }
  function hoverAt(svg, frac) {
    var axis = svg.parentNode && svg.parentNode.getAttribute('data-axis');
    var isDist = axis === 'dist';
    var x0 = +svg.getAttribute('data-x0'), x1 = +svg.getAttribute('data-x1');
    var ml = +svg.getAttribute('data-ml'), mr = +svg.getAttribute('data-mr');
    var vb = svg.viewBox.baseVal;
    var x = x0 + frac * (x1 - x0);
    setCursors(axis, ml + frac * (vb.width - ml - mr));
    ensureTs().then(function () {
      if (!ts || !ts.t) { return; }
      var i = isDist && dist ? nearest(dist, x) : nearest(ts.t, x);
      if (readout) { readout.textContent = describe(i); }
      var lat = ts.lat && ts.lat[i], lon = ts.lon && ts.lon[i];
      el.setAttribute('data-hover-index', String(i));
      if (map && lat != null && lon != null) {
        if (!marker) { marker = L.marker([lat, lon], { icon: L.divIcon({ className: 'hover-marker', iconSize: [12, 12] }), interactive: false, keyboard: false }).addTo(map); }
        marker.setLatLng([lat, lon]);
        el.setAttribute('data-marker', lat.toFixed(5) + ',' + lon.toFixed(5));
      }
    });
  }
  function clear() {
    setCursors('', -10);
    if (marker && map) { map.removeLayer(marker); marker = null; el.removeAttribute('data-marker'); }
  }
  charts.forEach(function (svg) {
    var ml = +svg.getAttribute('data-ml'), mr = +svg.getAttribute('data-mr');
    function frac(clientX) {
      var rect = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
      var px = (clientX - rect.left) / rect.width * vb.width;
      return Math.min(1, Math.max(0, (px - ml) / (vb.width - ml - mr)));
    }
    svg.addEventListener('pointermove', function (ev) { hoverAt(svg, frac(ev.clientX)); });
    svg.addEventListener('pointerleave', clear);
    // Keyboard: each chart is focusable; the arrow keys walk the line in 1 % steps.
    svg.setAttribute('tabindex', '0');
    var pos = 0;
    svg.addEventListener('keydown', function (ev) {
      var step = ev.shiftKey ? 0.1 : 0.01;
      if (ev.key === 'ArrowRight') { pos = Math.min(1, pos + step); }
      else if (ev.key === 'ArrowLeft') { pos = Math.max(0, pos - step); }
      else if (ev.key === 'Home') { pos = 0; }
      else if (ev.key === 'End') { pos = 1; }
      else { return; }
      ev.preventDefault();
      hoverAt(svg, pos);
    });
    svg.addEventListener('blur', clear);
  });

  // Browser-test hook: #bincio-test=hover:0.5 moves the pointer to that fraction of the
  // first visible chart once the map is ready.
  var m = location.hash.match(/hover:([0-9.]+)/);
  if (m) {
    var frac = +m[1];
    var tries = 0;
    (function fire() {
      var svg = charts.filter(function (c) { return c.getBoundingClientRect().width > 0; })[0];
      if (!svg || (data.track_url && !map && tries++ < 50)) { setTimeout(fire, 100); return; }
      var vb = svg.viewBox.baseVal, r = svg.getBoundingClientRect();
      var ml = +svg.getAttribute('data-ml'), mr = +svg.getAttribute('data-mr');
      var x = r.left + (ml + frac * (vb.width - ml - mr)) / vb.width * r.width;
      svg.dispatchEvent(new PointerEvent('pointermove', { clientX: x, clientY: r.top + r.height / 2, bubbles: true }));
    }());
  }
}());
