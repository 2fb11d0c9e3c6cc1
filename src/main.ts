// First, so the browser's install offer is caught even if it fires before the app has rendered.
import './pwa/install-prompt.js';
import './ui/app-shell.js';
