#!/usr/bin/env node
// The `sqliteos` command: a thin launcher for the bundled CLI (npm run build makes dist/).
'use strict';
const path = require('path');
let cli;
try {
  cli = require(path.join(__dirname, '..', 'dist', 'cli.js'));
} catch (e) {
  process.stderr.write(`sqliteos: the CLI is not built (${e.message}); run \`npm run build\` first\n`);
  process.exit(2);
}
// A reader that stops early (`sqliteos inspect | head`) is not an error of ours.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode || 0);
  throw e;
});
cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`sqliteos: internal error: ${e.stack || e.message}\n`);
    process.exitCode = 3;
  },
);
