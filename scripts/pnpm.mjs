#!/usr/bin/env node
// Runs the pinned pnpm (root package.json "packageManager") through npx, so a machine with only
// Node and npm needs no corepack download and no global install.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { packageManager } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const result = spawnSync('npx', ['--yes', packageManager, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, npm_config_loglevel: process.env.npm_config_loglevel ?? 'error' },
});
if (result.error) {
  console.error(`pnpm: ${result.error.message}`);
  process.exit(2);
}
// pnpm's silent reporter (lint's install) says nothing when it fails: say which run failed and how.
if (result.status !== 0) {
  const how = result.signal ? `killed by ${result.signal}` : `exit ${result.status}`;
  console.error(`pnpm ${process.argv.slice(2).join(' ')}: ${how}`);
}
process.exit(result.status ?? 1);
