// Bincio site script: theme toggle, login-dependent nav (GET /api/me), forms that call the
// daemon's /api/, lightbox and table sorting. Pages show their content without it.

// Heart-rate and power zones derived from the maximum heart rate or the FTP: the one rule the
// settings page and the activity page's owner form share. Five heart-rate zones (cuts at 60, 70,
// 80 and 90 % of the maximum) and Coggan's seven power levels (cuts at 55, 75, 90, 105, 120 and
// 150 % of FTP); the first zone starts at 0 and the top one is open, ending at the highest value
// the daemon accepts (250 bpm, 5000 W), so every sample falls in a zone. Whole numbers, as the
// daemon requires.
window.bincioZones = function (kind, base) {
  'use strict';
  var spec = kind === 'power_zones'
    ? { cuts: [0.55, 0.75, 0.9, 1.05, 1.2, 1.5], top: 5000 }
    : { cuts: [0.6, 0.7, 0.8, 0.9], top: 250 };
  var edges = [0].concat(spec.cuts.map(function (f) { return Math.round(base * f); }), [spec.top]);
  var out = [];
  for (var i = 0; i + 1 < edges.length; i += 1) { out.push([edges[i], edges[i + 1]]); }
  return out;
};
(function () {
  'use strict';
  var doc = document;
  function $all(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }

  // Theme toggle (the initial theme is set by an inline script in <head>, so no flash).
  $all('[data-theme-toggle]').forEach(function (b) {
    b.addEventListener('click', function () {
      var next = doc.documentElement.getAttribute('data-theme') === 'dark' ? 'light' : 'dark';
      doc.documentElement.setAttribute('data-theme', next);
      try { localStorage.setItem('bincio-theme', next); } catch (e) { /* private mode */ }
    });
  });

  // Who is logged in? 401/404 means nobody (or no daemon on a single-user host).
  var me = null;
  function applyMe(m, unreachable) {
    me = m;
    window.__bincioMe = m ? m.handle : null;
    $all('[data-user-only]').forEach(function (el) { el.hidden = !m; });
    $all('[data-anon-only]').forEach(function (el) { el.hidden = !!m; });
    $all('[data-admin-only]').forEach(function (el) { el.hidden = !(m && m.is_admin); });
    // Choices that need the instance's terrain model (dem_dir or dem_url in bincio.toml).
    $all('[data-dem-only]').forEach(function (el) { el.hidden = el.disabled = !(m && m.dem_configured); });
    if (m) {
      $all('[data-me-link]').forEach(function (a) { a.hidden = false; a.textContent = '@' + m.handle; a.href = '/u/' + m.handle + '/'; });
      $all('[data-user-path]').forEach(function (a) { a.href = '/u/' + m.handle + '/' + a.getAttribute('data-user-path'); });
      // The entries a member chose to hide (Settings → Navigation).
      fetch('/api/me/prefs', { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (p) {
          $all('[data-nav-entry]').forEach(function (a) { a.hidden = (p || {})['nav_hide_' + a.getAttribute('data-nav-entry')] === 'true'; });
        }, function () { /* every entry stays */ });
    }
    $all('[data-owner]').forEach(function (el) { el.hidden = !(m && m.handle === el.getAttribute('data-owner')); });
    $all('[data-require-login]').forEach(function (el) {
      // Their content is filled by `account.js` once it knows who is logged in.
      if (!m) { el.innerHTML = '<p class="muted">Please <a href="/login/?next=' + encodeURIComponent(location.pathname) + '">sign in</a> first.</p>'; }
    });
    // Private instance: nginx already refuses pages to visitors without a session; this only
    // sends a visitor whose session expired to the login page instead of a half-working page.
    var open = /^\/(login|register|reset-password|about)\//.test(location.pathname);
    if (!m && !unreachable && doc.body.getAttribute('data-private') === 'true' && !open) {
      location.replace('/login/?next=' + encodeURIComponent(location.pathname));
    }
    doc.dispatchEvent(new CustomEvent('bincio:me', { detail: m }));
  }
  // A site without a daemon (no instance.db when it was built) has no /api/: asking would
  // only log a 404 in the console.
  if (doc.body.getAttribute('data-daemon') === 'false') {
    applyMe(null, true);
  } else {
    fetch('/api/me', { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (m) { applyMe(m, false); }, function () { applyMe(null, true); });
  }

  $all('[data-logout]').forEach(function (b) {
    b.addEventListener('click', function () {
      fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' }).then(function () { location.href = '/login/'; });
    });
  });

  // Forms: <form data-api="/api/x" data-method="POST">: JSON body of the named fields.
  function status(form, text, ok) {
    var s = form.querySelector('.form-status');
    if (s) { s.textContent = text; s.className = 'form-status ' + (ok ? 'ok' : 'error'); }
  }
  var params = new URLSearchParams(location.search);
  // Where to go after logging in. `next` comes from the address bar, so a link can carry
  // `//evil.example/`, `/\evil.example`, `javascript:` or a tab that the URL parser drops:
  // only a path on this site is followed (one leading `/`, not `//` or `/\`, and still this
  // origin once resolved), anything else goes to the form's default.
  function sameOriginPath(next, fallback) {
    if (!next || next.charAt(0) !== '/' || next.charAt(1) === '/' || next.charAt(1) === '\\') { return fallback; }
    try {
      var u = new URL(next, location.origin);
      return u.origin === location.origin ? u.pathname + u.search + u.hash : fallback;
    } catch (e) { return fallback; }
  }
  $all('[data-from-query]').forEach(function (i) { var v = params.get(i.getAttribute('data-from-query')); if (v) { i.value = v; } });
  $all('form[data-api], form[data-api-template]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (form.hasAttribute('data-confirm') && !window.confirm(form.getAttribute('data-confirm'))) { return; }
      var body = {};
      $all('input[name], textarea[name], select[name]', form).forEach(function (i) {
        if (i.type === 'file') { return; }
        if (i.hasAttribute('data-array')) { body[i.name] = body[i.name] || []; if (i.checked) { body[i.name].push(i.value); } return; }
        var v = i.type === 'checkbox' ? i.checked : i.value.trim();
        if (i.hasAttribute('data-lower')) { v = String(v).toLowerCase(); }
        if (i.hasAttribute('data-upper')) { v = String(v).toUpperCase(); }
        body[i.name] = v;
      });
      var url = form.getAttribute('data-api') || form.getAttribute('data-api-template').replace(/\{(\w+)\}/g, function (_, k) { return encodeURIComponent(body[k] || ''); });
      var init = { method: form.getAttribute('data-method') || 'POST', credentials: 'same-origin', headers: {} };
      if (form.hasAttribute('data-multipart')) {
        init.body = new FormData(form);
      } else if (Object.keys(body).length) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      status(form, 'Working…', true);
      fetch(url, init).then(function (r) {
        return r.text().then(function (t) { var j = null; try { j = JSON.parse(t); } catch (e) { /* not JSON */ } return { ok: r.ok, json: j }; });
      }).then(function (res) {
        if (!res.ok) { status(form, (res.json && (res.json.message || res.json.detail || res.json.error)) || 'Request failed', false); return; }
        if (form.hasAttribute('data-redirect-next')) { location.href = sameOriginPath(params.get('next'), form.getAttribute('data-redirect-next')); return; }
        if (form.hasAttribute('data-redirect')) { location.href = form.getAttribute('data-redirect'); return; }
        if (form.hasAttribute('data-follow-job') && res.json && res.json.job_id) { followJob(form, res.json.job_id); return; }
        status(form, form.getAttribute('data-success') || 'Done.', true);
        if (form.hasAttribute('data-disable-on-success')) { $all('input, button', form).forEach(function (i) { i.disabled = true; }); }
      }, function () { status(form, 'Could not reach server', false); });
    });
  });

  // A form whose request queues a watcher job (data-follow-job, e.g. "Recalculate
  // elevation"): follow the job; once it is done the watcher has re-rendered the page, so
  // reload it and say there what the job did ("elevation recalculated (terrain model): 702 m
  // gain"). A job that reports failures leaves the page as it was and says why in the form.
  function jobText(m) {
    var t = String(m || '').replace(/^(done|failed): /, '').replace(/; \d+ files? written$/, '');
    return t.charAt(0).toUpperCase() + t.slice(1);
  }
  function followJob(form, job) {
    fetch('/api/jobs/' + encodeURIComponent(job), { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
      .then(function (j) {
        var failed = j.state === 'failed' || (j.failures && j.failures.length);
        if (j.state === 'done' && !failed) {
          try { sessionStorage.setItem('bincio-notice', jobText(j.message)); } catch (e) { /* no storage: the page still updates */ }
          // Open the reloaded page at its top, where the notice is, not where the dialog was.
          if ('scrollRestoration' in history) { history.scrollRestoration = 'manual'; }
          location.reload();
          return;
        }
        if (failed) { status(form, jobText(j.message) || 'The job failed.', false); return; }
        status(form, j.state === 'queued' ? 'Waiting for the server…' : 'Working…', true);
        setTimeout(function () { followJob(form, job); }, 1000);
      }, function (e) { status(form, 'Could not follow the job (' + e.message + ')', false); });
  }
  // What a followed job did, shown once at the top of the reloaded page.
  try {
    var notice = sessionStorage.getItem('bincio-notice');
    var main = doc.querySelector('main');
    if (notice && main) {
      sessionStorage.removeItem('bincio-notice');
      var p = doc.createElement('p');
      p.className = 'notice'; p.setAttribute('role', 'status'); p.setAttribute('data-job-notice', '');
      p.textContent = notice;
      main.insertBefore(p, main.firstChild);
    }
  } catch (e) { /* storage disabled */ }

  // Dialogs (upload, edit): open, close, and pre-fill edit forms from the API.
  doc.addEventListener('click', function (ev) {
    var open = ev.target.closest && ev.target.closest('[data-open-dialog]');
    if (open) {
      var dlg = doc.getElementById(open.getAttribute('data-open-dialog'));
      if (dlg && dlg.showModal) {
        $all('form[data-prefill]', dlg).forEach(prefill);
        dlg.showModal();
      }
    }
    var close = ev.target.closest && ev.target.closest('[data-close-dialog]');
    if (close) { var d = close.closest('dialog'); if (d) { d.close(); } }
  });
  function prefill(form) {
    fetch(form.getAttribute('data-prefill'), { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
      if (!j) { return; }
      $all('input[name], textarea[name], select[name]', form).forEach(function (i) {
        var v = j[i.name];
        if (v === undefined || v === null) { return; }
        if (i.hasAttribute('data-array')) { i.checked = v.indexOf(i.value) >= 0; } else if (i.type === 'checkbox') { i.checked = !!v; } else { i.value = v; }
      });
    }, function () { /* the form stays empty */ });
  }

  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  // "Copy link" buttons (invites).
  doc.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('[data-copy]');
    if (b && navigator.clipboard) { navigator.clipboard.writeText(b.getAttribute('data-copy')).then(function () { b.textContent = 'Copied!'; setTimeout(function () { b.textContent = 'Copy link'; }, 2000); }); }
  });

  // Navigation preferences (settings page).
  $all('form[data-prefs] input[type=checkbox]').forEach(function (i) {
    i.addEventListener('change', function () {
      var body = {}; body[i.name] = i.checked ? 'true' : 'false';
      fetch('/api/me/prefs', { method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    });
  });

  // Lightbox for photo galleries: arrows, Esc, click outside.
  var shots = $all('[data-lightbox]');
  if (shots.length) {
    var idx = 0, box = null;
    function show(i) {
      idx = (i + shots.length) % shots.length;
      if (!box) {
        box = doc.createElement('div'); box.className = 'lightbox';
        box.innerHTML = '<img alt=""><p class="lb-cap"></p><button type="button" class="lb-close" aria-label="Close">×</button>' +
          (shots.length > 1 ? '<button type="button" class="lb-prev" aria-label="Previous">‹</button><button type="button" class="lb-next" aria-label="Next">›</button>' : '');
        box.addEventListener('click', function (e) {
          if (e.target.classList.contains('lb-prev')) { show(idx - 1); } else if (e.target.classList.contains('lb-next')) { show(idx + 1); } else if (e.target.tagName !== 'IMG') { close(); }
        });
        doc.body.appendChild(box);
      }
      box.querySelector('img').src = shots[idx].getAttribute('href');
      box.querySelector('.lb-cap').textContent = (shots[idx].querySelector('img') || {}).alt + ' — ' + (idx + 1) + ' / ' + shots.length;
    }
    function close() { if (box) { box.remove(); box = null; } }
    shots.forEach(function (a, i) { a.addEventListener('click', function (e) { e.preventDefault(); show(i); }); });
    doc.addEventListener('keydown', function (e) {
      if (!box) { return; }
      if (e.key === 'Escape') { close(); } else if (e.key === 'ArrowLeft') { show(idx - 1); } else if (e.key === 'ArrowRight') { show(idx + 1); }
    });
  }

  // Sortable leaderboards: click a header to sort descending, again to flip.
  $all('table[data-sortable]').forEach(function (t) {
    $all('th[data-sort]', t).forEach(function (th) {
      th.addEventListener('click', function () {
        var key = th.getAttribute('data-sort');
        var desc = th.getAttribute('data-dir') !== 'desc';
        $all('th[data-sort]', t).forEach(function (h) { h.removeAttribute('data-dir'); h.textContent = h.textContent.replace(/ [↑↓]$/, ''); });
        th.setAttribute('data-dir', desc ? 'desc' : 'asc'); th.textContent += desc ? ' ↓' : ' ↑';
        var body = t.tBodies[0];
        $all('tr', body).sort(function (a, b) { var x = +a.getAttribute('data-' + key), y = +b.getAttribute('data-' + key); return desc ? y - x : x - y; })
          .forEach(function (r, i) { r.cells[0].textContent = i + 1; body.appendChild(r); });
      });
    });
  });

  // API reference: list the daemon's OpenAPI paths.
  $all('[data-openapi]').forEach(function (el) {
    fetch(el.getAttribute('data-openapi')).then(function (r) { return r.json(); }).then(function (doc2) {
      var rows = [];
      Object.keys(doc2.paths || {}).sort().forEach(function (p) {
        Object.keys(doc2.paths[p]).forEach(function (m) { var op = doc2.paths[p][m] || {}; rows.push('<tr><td class="mono">' + esc(m.toUpperCase()) + '</td><td class="mono">' + esc(p) + '</td><td>' + esc(op.summary || '') + '</td></tr>'); });
      });
      el.innerHTML = '<div class="table-scroll" tabindex="0"><table><thead><tr><th>Method</th><th>Path</th><th>Summary</th></tr></thead><tbody>' + rows.join('') + '</tbody></table></div>';
    }, function () { el.innerHTML = '<p class="muted">The API document is not available.</p>'; });
  });

  // Strava (upload dialog): connect through the daemon's OAuth flow, queue a sync and follow
  // its job ("syncing 12 of 230", "paused until 14:45 UTC — Strava rate limit"), disconnect.
  $all('[data-strava]').forEach(function (box) {
    var q = function (a) { return box.querySelector('[data-strava-' + a + ']'); };
    var state = q('state'), out = q('status'), bar = q('progress');
    var bConnect = q('connect'), bSync = q('sync'), bDisconnect = q('disconnect');
    function say(text, ok) { out.textContent = text; out.className = 'form-status ' + (ok ? 'ok' : 'error'); }
    function api(method, url) {
      return fetch(url, { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
        .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { if (!r.ok) { throw new Error(j.message || ('HTTP ' + r.status)); } return j; }); });
    }
    function refresh() {
      api('GET', '/api/strava/status').then(function (s) {
        bConnect.hidden = !s.configured || s.connected;
        bSync.hidden = !s.connected;
        bDisconnect.hidden = !s.connected;
        if (!s.configured) {
          state.textContent = 'Strava is not set up on this server. Add your own Strava application in Settings.';
        } else if (!s.connected) {
          state.textContent = 'Not connected. Connect your Strava account to import every activity with its data.';
        } else {
          var who = s.athlete && (s.athlete.name || s.athlete.username);
          var last = s.last_sync ? new Date(s.last_sync * 1000).toLocaleDateString() : 'never';
          state.textContent = 'Connected' + (who ? ' as ' + who : '') + ' · synced up to ' + last + '.';
        }
      }, function () { box.hidden = true; });
    }
    bConnect.addEventListener('click', function () {
      api('GET', '/api/strava/auth-url').then(function (j) { location.href = j.url; }, function (e) { say(e.message, false); });
    });
    function follow(job) {
      api('GET', '/api/jobs/' + encodeURIComponent(job)).then(function (j) {
        bar.hidden = false;
        if (j.total > 1) { bar.max = j.total; bar.value = j.done; } else { bar.removeAttribute('value'); }
        if (j.state === 'done') {
          bar.max = 1; bar.value = 1;
          var n = (j.new_activity_ids || []).length;
          say((n ? n + ' new activit' + (n === 1 ? 'y' : 'ies') + ' from Strava' : 'Nothing new on Strava') + (/paused/.test(j.message) ? ' — ' + j.message.split('; ').pop() : '') + '.', true);
          bSync.disabled = false; refresh(); return;
        }
        if (j.state === 'failed') { say(j.message || 'Sync failed', false); bSync.disabled = false; bar.hidden = true; return; }
        say(j.state === 'queued' ? 'Waiting for the server…' : (j.message || 'Working…'), true);
        // A sync paused until Strava's limit resets continues by itself: look less often.
        setTimeout(function () { follow(job); }, /paused until/.test(j.message || '') ? 30000 : 1000);
      }, function (e) { say(e.message, false); bSync.disabled = false; });
    }
    bSync.addEventListener('click', function () {
      bSync.disabled = true; say('Starting…', true);
      api('POST', '/api/strava/sync').then(function (j) { follow(j.job_id); }, function (e) { say(e.message, false); bSync.disabled = false; });
    });
    bDisconnect.addEventListener('click', function () {
      if (!window.confirm('Disconnect Strava? Activities already imported stay.')) { return; }
      api('DELETE', '/api/strava').then(function () { say('Strava disconnected.', true); refresh(); }, function (e) { say(e.message, false); });
    });
    doc.addEventListener('bincio:me', function (ev) { if (ev.detail) { refresh(); } });
    // Back from Strava's authorize page: open the dialog and say how it went.
    var back = params.get('strava');
    if (back) {
      doc.addEventListener('bincio:me', function (ev) {
        if (!ev.detail) { return; }
        var dlg = box.closest('dialog');
        if (dlg && dlg.showModal && !dlg.open) { dlg.showModal(); }
        say(back === 'connected' ? 'Strava connected.' : 'Strava was not connected. Please try again.', back === 'connected');
      });
      history.replaceState(null, '', location.pathname + location.hash);
    }
  });

  // Browser-test hooks, driven by the URL fragment only (headless Chromium cannot hover or
  // click from the command line): #bincio-test=theme,units,nav,labels,overflow
  var hooks = (location.hash.match(/bincio-test=([\w,.:-]+)/) || [])[1];
  if (hooks) {
    window.addEventListener('load', function () {
      hooks.split(',').forEach(function (h) {
        if (h === 'theme') { var b = doc.querySelector('[data-theme-toggle]'); if (b) { b.click(); } }
        if (h === 'units') { var u = doc.querySelector('[data-units-toggle]'); if (u) { u.click(); } }
        // Every main-navigation entry is on screen with a size (not cut or scrolled away).
        if (h === 'nav') {
          var off = $all('.nav a, .nav button').filter(function (a) { return !a.hidden && a.offsetParent !== null; }).filter(function (a) {
            var r = a.getBoundingClientRect();
            return r.width < 1 || r.height < 1 || r.left < 0 || r.right > window.innerWidth + 0.5;
          }).map(function (a) { return a.textContent.trim(); });
          var shown = $all('.nav .links a').filter(function (a) { return !a.hidden; }).map(function (a) { return a.textContent.trim(); });
          doc.body.setAttribute('data-nav', (off.length ? 'cut:' + off.join('|') : 'ok') + ';' + shown.join('|'));
        }
        // Chart labels: every visible tick label inside its SVG box, and no two of a chart
        // overlapping (rendered bounding boxes, in screen pixels).
        if (h === 'labels') {
          var bad = [], n = 0;
          $all('svg.chart').filter(function (c) { return c.getBoundingClientRect().width > 0; }).forEach(function (c) {
            var box = c.getBoundingClientRect();
            var rs = $all('text', c).map(function (t) { return { t: t.textContent, r: t.getBoundingClientRect() }; });
            rs.forEach(function (a, i) {
              n++;
              if (a.r.left < box.left - 0.5 || a.r.right > box.right + 0.5 || a.r.top < box.top - 0.5 || a.r.bottom > box.bottom + 0.5) { bad.push('clip:' + a.t); }
              rs.slice(i + 1).forEach(function (b) {
                if (a.r.left < b.r.right - 0.5 && b.r.left < a.r.right - 0.5 && a.r.top < b.r.bottom - 0.5 && b.r.top < a.r.bottom - 0.5) { bad.push('overlap:' + a.t + '/' + b.t); }
              });
            });
          });
          doc.body.setAttribute('data-labels', (bad.length ? bad.slice(0, 5).join('|') : 'ok') + ';' + n);
        }
        if (h === 'overflow') { doc.body.setAttribute('data-overflow', String(doc.documentElement.scrollWidth > window.innerWidth) + ':' + doc.documentElement.scrollWidth + '/' + window.innerWidth); }
      });
    });
  }
}());
