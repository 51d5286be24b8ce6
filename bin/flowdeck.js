#!/usr/bin/env node
// The executable: runs the compiled CLI (npm install builds it through the prepare script).
import { main } from '../dist/commands/index.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`flowdeck: unexpected error: ${error?.message ?? error}\n`);
    process.exitCode = 1;
  },
);
