import { readdirSync } from 'node:fs';
import { join } from 'node:path';

// Which files of a workspace's flows/ directory are flow files. Kept apart from the loader, so the
// catalog fingerprint can list them without loading the YAML parser and the schema.

const FLOW_FILE = /\.(ya?ml|json)$/i;

export function flowFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.filter((n) => FLOW_FILE.test(n)).sort().map((n) => join(dir, n));
}
