#!/usr/bin/env node
// A solc command-line stand-in backed by the npm `solc` package (the official compiler built to wasm).
// py-solc-x (and so brownie) only ever calls `solc --version` and `solc --standard-json`; binaries cannot be
// downloaded here, so tools/setup-solc.sh registers this file as ~/.solcx/solc-v<version>.
'use strict';
const fs = require('fs');
const path = require('path');

// SOLCJS_MODULE is baked in by setup-solc.sh: the shim runs from ~/.solcx, outside the repository.
const solc = require(process.env.SOLCJS_MODULE || path.join(__dirname, '..', 'node_modules', 'solc'));

function writeAll(text) {
  // process.stdout.write followed by exit truncates large outputs at 64 KiB when stdout is a pipe.
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

function findImports(importPath) {
  // Brownie passes remapped, already-resolved sources in the input; this only serves anything it missed.
  const candidates = [importPath, path.join(process.cwd(), importPath), path.join(process.cwd(), 'node_modules', importPath)];
  for (const c of candidates) {
    if (fs.existsSync(c)) return { contents: fs.readFileSync(c, 'utf8') };
  }
  return { error: 'File not found: ' + importPath };
}

const args = process.argv.slice(2);
if (args.includes('--version')) {
  writeAll('solc, the solidity compiler commandline interface\nVersion: ' + solc.version() + '\n');
  process.exit(0);
}
if (args.includes('--standard-json')) {
  const input = fs.readFileSync(0, 'utf8');
  writeAll(solc.compile(input, { import: findImports }));
  process.exit(0);
}
process.stderr.write('solcjs-shim: only --version and --standard-json are supported\n');
process.exit(2);
