/**
 * The Vite/Vitest plugin `perfprofile({ out, config })`: settings once, then the hook and the reporter.
 *
 * In benchmark mode only, it resolves the settings (bin flags > `vitest bench -- --perfprofile
 * ...` > plugin options > env), parses the config and probes the event once in the main
 * process, prepares the output directory, installs the runner hook in every project and adds
 * the reporter. A bad config prints one line and exits with code 2 before any benchmark runs.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vitest/config';
import type { Vitest } from 'vitest/node';
import { formatError, isProfileError, type ProfileError } from '@perfprofile/core';
import { adapterFor } from './adapter.js';
import { PROVIDE_KEY, type WorkerSettings } from './protocol.js';
import {
  mergeRequests,
  prepareOutput,
  requestFromDashArgs,
  requestFromEnv,
  resolveRequest,
  type PerfprofileRequest,
  type ResolvedSettings,
} from './settings.js';
import { installV8Log } from './v8log.js';

export interface PerfprofileOptions {
  /** Output directory for per-benchmark profiles, merged.pb.gz and index.json. */
  readonly out?: string;
  /** `--perfprofileconfig` text, e.g. `"event=v8 rate=1000"`. */
  readonly config?: string;
}

/** @internal Options the bin passes: its flags outrank everything else. */
export interface InternalOptions extends PerfprofileOptions {
  readonly fromCli?: boolean;
}

const STATE = Symbol.for('vitest-perfprofile.state');

interface RunState {
  priority: number;
  settings: ResolvedSettings | undefined;
  worker: { -readonly [K in keyof WorkerSettings]: WorkerSettings[K] } | undefined;
  reporterAdded: boolean;
}

function fail(error: ProfileError | Error): never {
  process.stderr.write(
    `${isProfileError(error) ? formatError(error, 'vitest-perf') : `vitest-perf: ${error.message}`}\n`,
  );
  process.exit(2);
}

/**
 * This package's and core's compiled directories, as patterns for Vitest's `server.deps.external`:
 * the runner imports them in every worker, and Vite transforms (and source-maps) whatever is not
 * under node_modules, e.g. a workspace or `npm link` checkout, each worker waiting on the main
 * process for it. Installed copies are externalized anyway; this makes linked ones the same.
 */
function ownCode(): RegExp[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dirs = [here];
  try {
    dirs.push(path.dirname(createRequire(import.meta.url).resolve('@perfprofile/core')));
  } catch {
    // core not resolvable from here: the runner will say so when it loads.
  }
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [...new Set(dirs.flatMap((d) => [d, realpathSync(d)]))].map((d) => new RegExp(`^${escape(d + path.sep)}`));
}

/** The plugin: add it to vitest.config's `plugins`; inert outside `vitest bench`. */
export function perfprofile(options: PerfprofileOptions = {}): Plugin {
  const fromCli = (options as InternalOptions).fromCli === true;
  return {
    name: 'vitest-perfprofile',
    config() {
      return { test: { server: { deps: { external: ownCode() } } } };
    },
    configureVitest({ vitest, project }) {
      // The Vitest major decides what a benchmark run is (v4: `vitest bench`; v5: benchmark projects).
      const adapter = adapterFor(vitest.version);
      if (adapter instanceof Error ? vitest.mode !== 'benchmark' : !adapter.benchmarking(vitest, project)) return;
      const dash = requestFromDashArgs();
      if (isProfileError(dash)) fail(dash);
      const priority = fromCli ? 2 : 1;
      const request: PerfprofileRequest = fromCli
        ? mergeRequests(options, dash, requestFromEnv())
        : mergeRequests(dash, options, requestFromEnv());
      const holder = vitest as Vitest & { [STATE]?: RunState };
      let state = holder[STATE];
      if (!state) {
        state = { priority: 0, settings: undefined, worker: undefined, reporterAdded: false };
        holder[STATE] = state;
      }
      if (priority > state.priority && request.out) {
        const settings = resolveRequest({ ...request, out: request.out }, vitest.config.root);
        if (isProfileError(settings)) fail(settings);
        const prepared = prepareOutput(settings.out);
        if (prepared) fail(prepared);
        state.priority = priority;
        state.settings = settings;
        const worker: WorkerSettings = {
          out: settings.out,
          config: settings.configText,
          baseline: settings.config.baseline,
          root: vitest.config.root,
          vitestVersion: vitest.version,
          counters: settings.counters.events.map((e) => e.name),
        };
        // One shared object, so a higher-priority instance updates what earlier projects provide.
        if (state.worker) Object.assign(state.worker, worker);
        else state.worker = { ...worker };
      }
      if (!state.settings || !state.worker) return;
      if (adapter instanceof Error) fail(adapter);
      adapter.install(project, PROVIDE_KEY, state.worker);
      // V8's code log for exact inline chains; vitest-perf can restart itself under it (threads pools).
      installV8Log(project, state.settings.run.source, fromCli);
      if (!state.reporterAdded) {
        state.reporterAdded = true;
        const s = state;
        adapter.addReporter(vitest, () => s.settings);
      }
    },
  };
}

export default perfprofile;
