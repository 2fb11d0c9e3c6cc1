import './ui/app-shell.js';
