#!/usr/bin/env node
// The executable: runs the compiled CLI, bundled (npm install builds it through the prepare
// script): a few files load much faster than the few hundred modules they hold.
import { main } from '../dist/bundle/index.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`flowdeck: unexpected error: ${error?.message ?? error}\n`);
    process.exitCode = 1;
  },
);
