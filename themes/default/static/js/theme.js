// Sets the saved (or system) light/dark theme before the first paint. Loaded as a blocking
// script in <head>: an inline script would be refused by the nginx Content-Security-Policy
// (script-src 'self'), and site.js runs deferred, too late to avoid a flash.
(function () { try { var t = localStorage.getItem('bincio-theme'); if (t !== 'light' && t !== 'dark') { t = (window.matchMedia && matchMedia('(prefers-color-scheme: light)').matches) ? 'light' : 'dark'; } document.documentElement.setAttribute('data-theme', t); } catch (e) { /* private mode */ } }());
