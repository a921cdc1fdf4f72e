#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('keel is not built yet — run `npm run build` in ' + path.dirname(__dirname) + '\n');
  process.exit(2);
}
// A reader that went away (`keel tools | head`) has all it wanted: stop quietly, as Unix tools do.
process.stdout.on('error', (error) => {
  if (error && error.code === 'EPIPE') process.exit(0);
  throw error;
});
require(entry).main(process.argv).then(
  (code) => { process.exitCode = code; },
  (error) => { process.stderr.write(String(error && error.stack ? error.stack : error) + '\n'); process.exitCode = 1; },
);
