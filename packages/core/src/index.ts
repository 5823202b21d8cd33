/**
 * @perfprofile/core: configurable CPU profiles for JavaScript, in pprof format.
 *
 *   const p = new CPUProfile('event=task-clock rate=1000');
 *   p.start();  work();  const { profile, stats } = p.stop()!;
 *   writeFileSync('cpu.pb.gz', encode(profile));
 */
export * from './errors.js';
export * from './text.js';
export * from './events.js';
export * from './config.js';
export * from './model.js';
export * from './builder.js';
export * from './encode.js';
export { DEFAULT_MAX_DECODED_BYTES, inflate, type DecodeOptions } from './inflate.js';
export * from './decode.js';
export * from './merge.js';
export * from './analysis.js';
export * from './profile.js';
export * from './availability.js';
export * from './counters.js';
export * from './memory.js';
export * from './alloc.js';
export * from './cpuprofile.js';
export * from './write.js';
export type {
  SampleSource,
  SourceFrame,
  SourceName,
  SourceResult,
  SourceSample,
  SourceSettings,
  Tier,
  FrameKind,
} from './sources/source.js';
export { fromInspectorProfile, urlToFile, type InspectorProfile } from './sources/v8.js';
export { nativeStatus, type NativeEngine, type NativeStatus } from './sources/native.js';
export { INFERRED_SUFFIX } from './sources/native-stacks.js';
export {
  inlineLaunch,
  isolateLogFiles,
  v8LogFlags,
  V8_LOG_ENV,
  type InlineLaunch,
  type IsolateLogFile,
} from './inline/v8-log-file.js';
export * from './collapsed.js';
export * from './chrome.js';
export * from './diff.js';
export * from './rundir.js';
export * from './stats.js';
export * from './gate-measure.js';
export * from './gate-compare.js';
export * from './gate.js';
export * from './input.js';
