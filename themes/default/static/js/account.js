// Account pages (admin, settings, invites): tables and forms built from the daemon's JSON,
// with human labels instead of key names, prefilled values and a confirmation before
// anything is deleted. The pages are static shells (the site is plain files); this script
// fills them once `site.js` knows who is logged in (the `bincio:me` event).
(function () {
  'use strict';
  var doc = document;
  function $all(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }

  // One call to the daemon: resolves with {ok, status, json}; a network failure rejects.
  function api(method, url, body) {
    var init = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (r) {
      return r.text().then(function (t) { var j = null; try { j = JSON.parse(t); } catch (e) { /* not JSON */ } return { ok: r.ok, status: r.status, json: j }; });
    });
  }
  function message(res) { return (res.json && (res.json.message || res.json.detail || res.json.error)) || ('HTTP ' + res.status); }
  function say(el, text, ok) { if (el) { el.textContent = text; el.className = 'form-status ' + (ok ? 'ok' : 'error'); } }

  // Sizes arrive in MiB (`*_mb`); shown as people read them.
  function size(mib) {
    var v = Number(mib) || 0;
    if (v >= 1024) { return (v / 1024).toFixed(v >= 10240 ? 0 : 1) + ' GB'; }
    if (v >= 10) { return Math.round(v) + ' MB'; }
    return v.toFixed(1) + ' MB';
  }
  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }
  function day(ts) {
    if (!ts) { return ''; }
    return new Date(ts * 1000).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  }
  function meter(used, total, label) {
    var pct = total > 0 ? Math.min(100, Math.round(used / total * 1000) / 10) : 0;
    return '<div class="meter" role="meter" aria-label="' + esc(label) + '" aria-valuemin="0" aria-valuemax="100" aria-valuenow="' + pct + '"><span style="width:' + pct + '%"></span></div>';
  }
  function fail(el, res) { el.innerHTML = '<p class="muted">Not available (' + esc(message(res)) + ').</p>'; }

  var fill = {
    // Settings page: what the caller's folder holds, against the instance's limit.
    storage: function (el) {
      api('GET', '/api/me/storage').then(function (res) {
        if (!res.ok) { return fail(el, res); }
        var s = res.json;
        var limit = s.limit_mb > 0 ? ' of ' + size(s.limit_mb) : ' (no limit)';
        el.innerHTML = '<p><strong data-figure="total">' + esc(size(s.total_mb)) + '</strong> used' + esc(limit) + '</p>' +
          (s.limit_mb > 0 ? meter(s.total_mb, s.limit_mb, 'Storage used') : '') +
          '<table class="kv"><tbody>' +
          '<tr><th scope="row">Activities</th><td data-figure="activities">' + esc(plural(s.activities_count, 'activity', 'activities')) + '</td><td>' + esc(size(s.activities_mb)) + '</td></tr>' +
          '<tr><th scope="row">Original files</th><td data-figure="originals">' + esc(plural(s.originals_count, 'file', 'files')) + '</td><td>' + esc(size(s.originals_mb)) + '</td></tr>' +
          '<tr><th scope="row">Photos</th><td data-figure="photos">' + esc(plural(s.images_count, 'photo', 'photos')) + '</td><td>' + esc(size(s.images_mb)) + '</td></tr>' +
          '</tbody></table>';
      }, function () { el.innerHTML = '<p class="muted">Could not reach the server.</p>'; });
    },

    // Admin: the file system of the data directory.
    disk: function (el) {
      api('GET', '/api/admin/disk').then(function (res) {
        if (!res.ok) { return fail(el, res); }
        var d = res.json.disk;
        el.innerHTML = '<p><strong>' + esc(d.used_gb) + ' GB</strong> used of ' + esc(d.total_gb) + ' GB (' + esc(d.percent) + ' %) · ' + esc(d.free_gb) + ' GB free</p>' +
          meter(d.used_gb, d.total_gb, 'Disk used');
      }, function () { el.innerHTML = '<p class="muted">Could not reach the server.</p>'; });
    },

    // Admin: every account with its activities and storage, and what can be done to it;
    // folders without an account ("ghosts") after them.
    users: function (el) {
      Promise.all([api('GET', '/api/admin/users'), api('GET', '/api/admin/disk')]).then(function (r) {
        if (!r[0].ok) { return fail(el, r[0]); }
        var disk = {};
        ((r[1].ok && r[1].json.users) || []).forEach(function (u) { disk[u.handle] = u; });
        var rows = r[0].json.map(function (u) {
          var d = disk[u.handle] || {};
          return '<tr data-handle="' + esc(u.handle) + '"><th scope="row"><a href="/u/' + esc(u.handle) + '/">' + esc(u.display_name || u.handle) + '</a> <span class="muted">@' + esc(u.handle) + '</span></th>' +
            '<td>' + (u.is_admin ? 'Admin' : 'Member') + '</td><td>' + esc(day(u.created_at)) + '</td>' +
            '<td data-figure="activities">' + esc(d.activities_count == null ? '' : d.activities_count) + '</td><td>' + esc(d.total_mb == null ? '' : size(d.total_mb)) + '</td>' +
            '<td class="row-actions"><button type="button" class="btn-link" data-user-action="reset">Reset code</button> ' +
            '<button type="button" class="btn-link" data-user-action="rebuild">Rebuild pages</button> ' +
            '<button type="button" class="btn-link danger" data-user-action="wipe">Delete data</button></td></tr>';
        });
        var known = {};
        r[0].json.forEach(function (u) { known[u.handle] = true; });
        Object.keys(disk).filter(function (h) { return !known[h]; }).forEach(function (h) {
          var d = disk[h];
          rows.push('<tr data-handle="' + esc(h) + '" class="ghost"><th scope="row">@' + esc(h) + '</th><td>No account</td><td></td>' +
            '<td data-figure="activities">' + esc(d.activities_count) + '</td><td>' + esc(size(d.total_mb)) + '</td>' +
            '<td class="row-actions"><button type="button" class="btn-link danger" data-user-action="ghost">Remove folder</button></td></tr>');
        });
        el.innerHTML = '<div class="table-scroll"><table class="admin-users"><thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col">Joined</th><th scope="col">Activities</th><th scope="col">Storage</th><th scope="col">Actions</th></tr></thead><tbody>' +
          rows.join('') + '</tbody></table></div><p class="form-status" role="status" data-users-status></p>';
      }, function () { el.innerHTML = '<p class="muted">Could not reach the server.</p>'; });
    },

    // Admin: jobs the watcher has not finished.
    jobs: function (el) {
      api('GET', '/api/admin/jobs').then(function (res) {
        if (!res.ok) { return fail(el, res); }
        if (!res.json.length) { el.innerHTML = '<p class="muted">No job is waiting or running.</p>'; return; }
        el.innerHTML = '<div class="table-scroll"><table><thead><tr><th scope="col">Member</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Message</th></tr></thead><tbody>' +
          res.json.map(function (j) {
            return '<tr><td>@' + esc(j.handle) + '</td><td>' + (j.state === 'running' ? 'Running' : 'Waiting') + '</td><td>' +
              (j.total ? esc(j.done + ' of ' + j.total) : '') + '</td><td>' + esc(j.message) + '</td></tr>';
          }).join('') + '</tbody></table></div>';
      }, function () { el.innerHTML = '<p class="muted">Could not reach the server.</p>'; });
    },

    // Invites page: the caller's invites, each with its link while unused.
    invites: function (el) {
      api('GET', '/api/invites').then(function (res) {
        if (!res.ok) { return fail(el, res); }
        var list = res.json || [];
        if (!list.length) { el.innerHTML = '<p class="muted">No invites yet: create one and send its link.</p>'; return; }
        el.innerHTML = '<div class="table-scroll"><table class="invites"><thead><tr><th scope="col">Code</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col">Link</th></tr></thead><tbody>' +
          list.map(function (i) {
            var link = location.origin + '/register/?code=' + encodeURIComponent(i.code);
            return '<tr><td class="mono">' + esc(i.code) + '</td><td>' + esc(day(i.created_at)) + '</td><td>' +
              (i.used ? 'Used' + (i.used_by ? ' by <a href="/u/' + esc(i.used_by) + '/">@' + esc(i.used_by) + '</a>' : '') + (i.used_at ? ' on ' + esc(day(i.used_at)) : '') : 'Unused') + '</td><td>' +
              (i.used ? '' : '<button type="button" class="btn-link" data-copy="' + esc(link) + '">Copy link</button>') + '</td></tr>';
          }).join('') + '</tbody></table></div>';
      }, function () { el.innerHTML = '<p class="muted">Could not reach the server.</p>'; });
    }
  };

  // Admin: the instance settings form, prefilled from bincio.toml (an unset key shows its
  // default); only the fields the admin changed are sent.
  function settingsForm(form) {
    var status = form.querySelector('.form-status');
    var loaded = {};
    // A field's key is its name, after the prefix of its fieldset (`strava_` + `client_id`).
    function keyOf(i) { var f = i.closest('[data-key-prefix]'); return (f ? f.getAttribute('data-key-prefix') : '') + i.name; }
    var fields = {};
    $all('input[name], select[name]', form).forEach(function (i) { fields[keyOf(i)] = i; });
    function current(i) { return i.type === 'checkbox' ? String(i.checked) : i.value.trim(); }
    api('GET', '/api/admin/settings').then(function (res) {
      if (!res.ok) { say(status, message(res), false); return; }
      res.json.settings.forEach(function (s) {
        var i = fields[s.key];
        if (!i) { return; }
        var v = s.value == null ? s.default : s.value;
        if (i.type === 'checkbox') { i.checked = v === 'true'; }
        else if (s.secret) { i.placeholder = s.set ? 'set — unchanged when empty' : 'not set'; }
        else if (i.tagName === 'SELECT' && s.value == null && s.kind === 'bool') { i.value = ''; }
        else { i.value = v == null ? '' : v; }
        if (s.default && i.type !== 'checkbox' && i.tagName !== 'SELECT') { i.placeholder = s.default; }
        loaded[s.key] = current(i);
      });
      form.removeAttribute('aria-busy');
    }, function () { say(status, 'Could not reach the server', false); });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var body = {}, n = 0;
      Object.keys(fields).forEach(function (k) {
        var i = fields[k], v = current(i);
        if (v !== loaded[k] && !(i.type === 'password' && v === '')) { body[k] = v; n += 1; }
      });
      if (!n) { say(status, 'Nothing changed.', true); return; }
      say(status, 'Saving…', true);
      api('PUT', '/api/admin/settings', body).then(function (res) {
        if (!res.ok) { say(status, message(res), false); return; }
        Object.keys(body).forEach(function (k) { loaded[k] = body[k]; });
        $all('input[type=password]', form).forEach(function (i) { i.value = ''; });
        var q = res.json.rebuilds_queued || 0;
        say(status, 'Saved.' + (q ? ' The site is being re-rendered with the new settings (' + plural(q, 'member', 'members') + ').' : ''), true);
      }, function () { say(status, 'Could not reach the server', false); });
    });
  }

  // Settings: maximum heart rate, FTP and the zones (`/api/athlete`, saved into the
  // member's `edits/athlete.yaml`). A zone row counts when both its ends are filled; an
  // empty maximum or FTP removes it.
  // The zones' rule (shares of the maximum or FTP) is site.js's `bincioZones`.
  var ZONE_BASE = { hr_zones: 'max_hr', power_zones: 'ftp_w' };
  function athleteForm(form) {
    var status = form.querySelector('.form-status');
    function rows(key) { return $all('[data-zones="' + key + '"] tbody tr', form); }
    function setZones(key, zones) {
      rows(key).forEach(function (r, i) {
        var z = zones[i] || ['', ''];
        r.querySelector('[data-zone-low]').value = z[0];
        r.querySelector('[data-zone-high]').value = z[1];
      });
    }
    api('GET', '/api/athlete').then(function (res) {
      if (!res.ok) { say(status, message(res), false); return; }
      var a = res.json || {};
      ['max_hr', 'ftp_w'].forEach(function (k) { if (a[k] != null) { form.elements[k].value = a[k]; } });
      Object.keys(ZONE_BASE).forEach(function (k) { if (Array.isArray(a[k])) { setZones(k, a[k]); } });
      form.removeAttribute('aria-busy');
    }, function () { say(status, 'Could not reach the server', false); });
    $all('[data-zones-fill]', form).forEach(function (b) {
      b.addEventListener('click', function () {
        var k = b.getAttribute('data-zones-fill');
        var base = Number(form.elements[ZONE_BASE[k]].value);
        if (!base) { say(status, 'Enter the ' + (k === 'hr_zones' ? 'maximum heart rate' : 'FTP') + ' first.', false); return; }
        setZones(k, window.bincioZones(k, base));
        say(status, 'Filled in; save to keep them.', true);
      });
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var body = {}, problem = null;
      ['max_hr', 'ftp_w'].forEach(function (k) { var v = form.elements[k].value.trim(); body[k] = v === '' ? null : Number(v); });
      Object.keys(ZONE_BASE).forEach(function (k) {
        var zones = [];
        rows(k).forEach(function (r, i) {
          var lo = r.querySelector('[data-zone-low]').value.trim(), hi = r.querySelector('[data-zone-high]').value.trim();
          if (lo === '' && hi === '') { return; }
          if (lo === '' || hi === '' || Number(lo) >= Number(hi)) { problem = problem || ('Zone ' + (i + 1) + ': "from" must be below "to".'); return; }
          zones.push([Number(lo), Number(hi)]);
        });
        body[k] = zones.length ? zones : null;
      });
      if (problem) { say(status, problem, false); return; }
      say(status, 'Saving…', true);
      api('POST', '/api/athlete', body).then(function (res) {
        say(status, res.ok ? 'Saved. Your pages update in a moment.' : message(res), res.ok);
      }, function () { say(status, 'Could not reach the server', false); });
    });
  }

  // Actions on a member row of the admin table.
  doc.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('[data-user-action]');
    if (!b) { return; }
    var row = b.closest('tr'), h = row.getAttribute('data-handle');
    var out = doc.querySelector('[data-users-status]');
    var base = '/api/admin/users/' + encodeURIComponent(h);
    var act = b.getAttribute('data-user-action');
    var call;
    if (act === 'reset') {
      call = api('POST', base + '/reset-password-code').then(function (res) {
        return res.ok ? 'Reset code for @' + h + ': ' + res.json.code + ' (valid ' + res.json.expires_in_hours + ' hours, once). Give it to them with the reset page: ' + location.origin + '/reset-password/' : res;
      });
    } else if (act === 'rebuild') {
      call = api('POST', base + '/rebuild').then(function (res) { return res.ok ? 'The pages of @' + h + ' are queued for a re-render.' : res; });
    } else if (act === 'wipe') {
      if (!window.confirm('Delete every activity, photo and original file of @' + h + '? The account stays. This cannot be undone.')) { return; }
      call = api('DELETE', base + '/activities').then(function (res) { return res.ok ? 'The data of @' + h + ' was deleted (' + plural(res.json.deleted, 'file', 'files') + ').' : res; });
    } else if (act === 'ghost') {
      if (!window.confirm('Remove the folder of @' + h + ' (it has no account) and everything in it? This cannot be undone.')) { return; }
      call = api('DELETE', base + '/directory').then(function (res) { return res.ok ? 'The folder of @' + h + ' was removed.' : res; });
    } else { return; }
    say(out, 'Working…', true);
    call.then(function (r) {
      if (typeof r === 'string') {
        say(out, r, true);
        if (act === 'wipe' || act === 'ghost') { $all('[data-account="users"]').forEach(fill.users); }
      } else { say(out, message(r), false); }
    }, function () { say(out, 'Could not reach the server', false); });
  });

  function start(m) {
    if (!m) { return; }
    $all('[data-account]').forEach(function (el) { var f = fill[el.getAttribute('data-account')]; if (f) { f(el); } });
    $all('form[data-settings]').forEach(settingsForm);
    $all('form[data-athlete]').forEach(athleteForm);
    // Forms of the page (not of a dialog) show their current values.
    $all('form[data-prefill]').forEach(function (form) {
      if (form.closest('dialog')) { return; }
      api('GET', form.getAttribute('data-prefill')).then(function (res) {
        if (!res.ok || !res.json) { return; }
        $all('input[name], textarea[name]', form).forEach(function (i) {
          var v = res.json[i.name];
          if (v === undefined || v === null || i.type === 'password') { return; }
          if (i.type === 'checkbox') { i.checked = v === true || v === 'true'; } else { i.value = v; }
        });
      });
    });
    $all('form[data-invite-create]').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var st = form.querySelector('.form-status');
        api('POST', '/api/invites').then(function (res) {
          if (!res.ok) { say(st, message(res), false); return; }
          say(st, 'Invite created: ' + location.origin + '/register/?code=' + res.json.code, true);
          $all('[data-account="invites"]').forEach(fill.invites);
        }, function () { say(st, 'Could not reach the server', false); });
      });
    });
  }
  // `site.js` (loaded before this script) may already have answered, e.g. on a site
  // without a daemon; otherwise wait for it.
  if (window.__bincioMe !== undefined) { start(window.__bincioMe ? { handle: window.__bincioMe } : null); }
  else { doc.addEventListener('bincio:me', function (e) { start(e.detail); }, { once: true }); }
}());
