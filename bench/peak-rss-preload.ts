import { writeFileSync } from 'node:fs';
import { ownPeakRssMB } from './own-rss.js';

// Preloaded (`node --import`) into every process a benchmark times: on exit it writes the process's
// own peak RSS to the file FLOWDECK_BENCH_RSS_FILE names.

const file = process.env.FLOWDECK_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, String(ownPeakRssMB()));
    } catch {
      // the benchmark reports the figure as missing
    }
  });
}
