// Sets the saved (or system) light/dark theme before the first paint. Loaded as a blocking
// script in <head>: an inline script would be refused by the nginx Content-Security-Policy
// (script-src 'self'), and site.js runs deferred, too late to avoid a flash.
(function () { try { var t = localStorage.getItem('bincio-theme'); if (t !== 'light' && t !== 'dark') { t = (window.matchMedia && matchMedia('(prefers-color-scheme: light)').matches) ? 'light' : 'dark'; } document.documentElement.setAttribute('data-theme', t); } catch (e) { /* private mode */ } }());
// The visitor's km/mi preference, before the first paint too: pages are pre-rendered in the
// instance's units (data-units-default), and units.js rewrites the figures when they differ.
(function () { try { var u = localStorage.getItem('bincio-units'); if (u === 'metric' || u === 'imperial') { document.documentElement.setAttribute('data-units', u); } } catch (e) { /* private mode */ } }());
// Marks that scripts run, so the stylesheet shows the controls that need them (theme and units
// switches) only then: without JavaScript they would be buttons that do nothing.
document.documentElement.classList.add('js');
