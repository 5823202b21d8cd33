/** `perfprofile events`: every event `event=` accepts, and whether it can run on this machine. */
import { events, lookupEvent } from '@perfprofile/core';
import { parseArgs } from '../args.js';

export const summary = 'list the sampling events and whether each works here';
export const usage = `usage: perfprofile events [--json]

Lists every event that event= accepts, whether it is usable on this machine, and why not.
Raw PMU events are written r<hex> (e.g. r01c2) and need a hardware PMU.`;

/** Trade-offs of the CPU-time events, next to their rate (docs/PERFORMANCE.md has the figures). */
const NOTES: Record<string, string> = {
  'task-clock': 'the sampled thread pays a timer interrupt and a signal per sample',
  'thread-cputime':
    'a helper thread on another core signals the thread: cheaper for the thread, dearer for the machine; a few samples land in blocking calls',
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs('events', argv, [{ name: 'json', type: 'boolean' }]);
  if (args.flags.help) {
    console.log(usage);
    return 0;
  }
  const list = events();
  if (args.flags.json) {
    console.log(JSON.stringify(list, null, 2));
    return 0;
  }
  const width = Math.max(...list.map((e) => e.name.length));
  console.log(`${'event'.padEnd(width)}  ${'kind'.padEnd(8)}  ${'usable'.padEnd(6)}  default rate / note`);
  for (const e of list) {
    const spec = lookupEvent(e.name)!;
    const rate =
      spec.kind === 'auto'
        ? 'picks cycles, else task-clock, else v8'
        : spec.clock
          ? `${spec.defaultRate} Hz${NOTES[spec.name] ? `; ${NOTES[spec.name]}` : ''}`
          : `every ${spec.defaultRate} events`;
    console.log(
      `${e.name.padEnd(width)}  ${e.kind.padEnd(8)}  ${(e.available ? 'yes' : 'no').padEnd(6)}  ${e.available ? rate : e.reason}`,
    );
  }
  return 0;
}
