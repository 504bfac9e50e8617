// Activity page: interactive Leaflet map of the published track (the server-rendered SVG
// outline stays underneath until the map is ready, and the track is drawn even when tiles
// cannot load), and chart hover linked to a marker on the map.
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

  if (window.L && data.track_url) {
    var outline = el.innerHTML;
    fetch(data.track_url).then(function (r) { return r.json(); }).then(function (gj) {
      el.innerHTML = '';
      map = L.map(el, { zoomControl: true, attributionControl: true });
      // Tiles are optional: the track is a vector layer and shows without them.
      if (data.tile_url) {
        L.tileLayer(data.tile_url, { maxZoom: 18, attribution: data.tile_attribution || '' })
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

  // Chart hover → marker. The x axis of each chart maps linearly onto [x0, x1] (seconds or
  // km); the nearest timeseries sample gives the position.
  var charts = Array.prototype.slice.call(document.querySelectorAll('svg.chart[data-x0]'));
  if (!charts.length) { return; }
  var tsPromise = null;
  function ensureTs() { if (!tsPromise) { tsPromise = loadTimeseries().then(function (t) { ts = t; prepare(); return t; }); } return tsPromise; }
  var dist = null;
  function prepare() {
    if (!ts || !ts.t) { return; }
    var acc = 0; dist = [0];
    for (var i = 1; i < ts.t.length; i++) {
      var v = (ts.speed_kmh && ts.speed_kmh[i]) || 0; if (v > 150) { v = 0; }
      acc += v * Math.max(0, ts.t[i] - ts.t[i - 1]) / 3600; dist.push(acc);
    }
  }
  function nearest(arr, x) {
    var lo = 0, hi = arr.length - 1;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid] < x) { lo = mid + 1; } else { hi = mid; } }
    return lo;
  }
  charts.forEach(function (svg) {
    var isDist = svg.parentNode && svg.parentNode.getAttribute('data-axis') === 'dist';
    var x0 = +svg.getAttribute('data-x0'), x1 = +svg.getAttribute('data-x1');
    var ml = +svg.getAttribute('data-ml'), mr = +svg.getAttribute('data-mr');
    var vb = svg.viewBox.baseVal;
    var cursor = svg.querySelector('.cursor');
    var readout = svg.closest('figure') && svg.closest('figure').querySelector('[data-readout]');
    function move(ev) {
      var rect = svg.getBoundingClientRect();
      var px = (ev.clientX - rect.left) / rect.width * vb.width;
      var f = Math.min(1, Math.max(0, (px - ml) / (vb.width - ml - mr)));
      var x = x0 + f * (x1 - x0);
      if (cursor) { cursor.setAttribute('x1', px); cursor.setAttribute('x2', px); }
      ensureTs().then(function () {
        if (!ts || !ts.t) { return; }
        var i = isDist && dist ? nearest(dist, x) : nearest(ts.t, x);
        var key = (svg.closest('figure') || {}).getAttribute ? svg.closest('figure').getAttribute('data-chart') : '';
        var ch = { elevation: 'elevation_m', speed: 'speed_kmh', hr: 'hr_bpm', cadence: 'cadence_rpm', power: 'power_w' }[key];
        if (readout && ch && ts[ch]) { var v = ts[ch][i]; readout.textContent = v == null ? '' : (Math.round(v * 10) / 10) + ' @ ' + (isDist ? x.toFixed(2) + ' km' : Math.floor(x / 60) + ' min'); }
        var lat = ts.lat && ts.lat[i], lon = ts.lon && ts.lon[i];
        el.setAttribute('data-hover-index', String(i));
        if (map && lat != null && lon != null) {
          if (!marker) { marker = L.marker([lat, lon], { icon: L.divIcon({ className: 'hover-marker', iconSize: [12, 12] }), interactive: false }).addTo(map); }
          marker.setLatLng([lat, lon]);
          el.setAttribute('data-marker', lat.toFixed(5) + ',' + lon.toFixed(5));
        }
      });
    }
    svg.addEventListener('pointermove', move);
    svg.addEventListener('pointerleave', function () {
      if (cursor) { cursor.setAttribute('x1', -10); cursor.setAttribute('x2', -10); }
      if (marker && map) { map.removeLayer(marker); marker = null; el.removeAttribute('data-marker'); }
    });
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
