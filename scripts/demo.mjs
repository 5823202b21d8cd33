#!/usr/bin/env node
// `pnpm demo`: runs `vitest-perf bench --run --perfprofile perf.out` on the Vitest 4.1 fixture
// project (fixtures/vitest4) and prints its summary. The profiles land in ./perf.out at the
// repo root: one .pb.gz per benchmark, merged.pb.gz and index.json.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'packages/vitest/dist/cli.js');
const fixture = path.join(root, 'fixtures/vitest4');
const out = path.join(root, 'perf.out');
if (!existsSync(bin)) {
  console.error('demo: packages/vitest is not built; run `pnpm setup` first');
  process.exit(2);
}
console.log(`$ cd fixtures/vitest4 && vitest-perf bench --run --perfprofile ${out}\n`);
const r = spawnSync(process.execPath, [bin, 'bench', '--run', '--perfprofile', out, ...process.argv.slice(2)], {
  cwd: fixture,
  stdio: 'inherit',
});
if (r.status === 0) {
  console.log(
    `\nNext: go tool pprof -top perf.out/merged.pb.gz   (or -http=: for the web UI; -tagfocus=benchmark=... for one benchmark)`,
  );
}
process.exit(r.status ?? 1);
