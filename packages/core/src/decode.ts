/**
 * The pprof decoder: protobuf bytes (gzipped or not) to a {@link Profile}. One pass over the
 * top-level fields reads the scalars and the string table and notes where each submessage lies
 * (the string table may come anywhere; ours comes last); a second pass reads the submessages
 * straight into the model, resolving string indices as it goes.
 */
import type { Label, Line, Location, Mapping, Profile, ProfileFunction, Sample, ValueType } from './model.js';
import { emptyProfile } from './model.js';
import { ProfileError } from './errors.js';
import { inflate, type DecodeOptions } from './inflate.js';
import { LEN, message, Reader, REPEATED, VARINT, WireError } from './reader.js';

// The messages of proto/profile.proto: expected wire type by field number.
const PROFILE = message('Profile', {
  1: LEN,
  2: LEN,
  3: LEN,
  4: LEN,
  5: LEN,
  6: LEN,
  7: VARINT,
  8: VARINT,
  9: VARINT,
  10: VARINT,
  11: LEN,
  12: VARINT,
  13: REPEATED,
  14: VARINT,
  15: VARINT,
});
const VALUE_TYPE = message('ValueType', { 1: VARINT, 2: VARINT });
const SAMPLE = message('Sample', { 1: REPEATED, 2: REPEATED, 3: LEN });
const LABEL = message('Label', { 1: VARINT, 2: VARINT, 3: VARINT, 4: VARINT });
const MAPPING = message('Mapping', {
  1: VARINT,
  2: VARINT,
  3: VARINT,
  4: VARINT,
  5: VARINT,
  6: VARINT,
  7: VARINT,
  8: VARINT,
  9: VARINT,
  10: VARINT,
});
const LOCATION = message('Location', { 1: VARINT, 2: VARINT, 3: VARINT, 4: LEN, 5: VARINT });
const LINE = message('Line', { 1: VARINT, 2: VARINT, 3: VARINT });
const FUNCTION = message('Function', { 1: VARINT, 2: VARINT, 3: VARINT, 4: VARINT, 5: VARINT });

/**
 * Reads pprof bytes (gzipped or not) into a {@link Profile}. Throws a {@link ProfileError} with
 * code ERR_DECODE on truncated, garbage, inconsistent or oversized input.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}, what = 'profile'): Profile {
  const raw = inflate(bytes, options, what);
  try {
    return readProfile(raw, what);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    throw new ProfileError(
      'ERR_DECODE',
      `${what} is not a pprof profile: ${e.message}`,
      'pass a pprof file (.pb.gz) such as perfprofile or go tool pprof write',
    );
  }
}

function readProfile(raw: Uint8Array, what: string): Profile {
  const r = new Reader(raw);
  const end = raw.length;

  // Pass 1: the top level. Scalars are read (the last occurrence wins), submessages located.
  const at = {
    sampleType: [] as number[],
    sample: [] as number[],
    mapping: [] as number[],
    location: [] as number[],
    function: [] as number[],
    periodType: [] as number[],
  };
  const strings: string[] = [];
  const comments: number[] = [];
  let dropFrames = 0,
    keepFrames = 0,
    timeNanos = 0,
    durationNanos = 0,
    period = 0,
    defaultSampleType = 0,
    docUrl = 0;
  for (let f; (f = r.next(end, PROFILE)) !== 0;) {
    switch (f) {
      case 1:
        r.locate(end, at.sampleType);
        break;
      case 2:
        r.locate(end, at.sample);
        break;
      case 3:
        r.locate(end, at.mapping);
        break;
      case 4:
        r.locate(end, at.location);
        break;
      case 5:
        r.locate(end, at.function);
        break;
      case 6:
        strings.push(r.string(end));
        break;
      case 7:
        dropFrames = r.int64(end);
        break;
      case 8:
        keepFrames = r.int64(end);
        break;
      case 9:
        timeNanos = r.int64(end);
        break;
      case 10:
        durationNanos = r.int64(end);
        break;
      case 11:
        r.locate(end, at.periodType);
        break;
      case 12:
        period = r.int64(end);
        break;
      case 13:
        r.repeated(end, comments, true);
        break;
      case 14:
        defaultSampleType = r.int64(end);
        break;
      case 15:
        docUrl = r.int64(end);
        break;
    }
  }
  if (strings.length === 0 || strings[0] !== '') {
    throw new ProfileError(
      'ERR_DECODE',
      `${what} is not a pprof profile: its string table does not start with ""`,
      'pass a pprof file (.pb.gz)',
    );
  }
  const corrupt = (detail: string) =>
    new ProfileError('ERR_DECODE', `${what} is corrupt: ${detail}`, 'the file is damaged; write it again');
  const str = (n: number, field: string): string => {
    if (!Number.isInteger(n) || n < 0 || n >= strings.length)
      throw corrupt(`${field} names string ${n} of ${strings.length}`);
    return strings[n];
  };
  /** Reads the ValueType messages at [start, end) pairs `ranges[k..k+count)` merged into one (protobuf merges repeats of a singular message). */
  const valueType = (ranges: number[], k: number, count: number, field: string): ValueType => {
    let type = 0;
    let unit = 0;
    for (let i = k; i < k + count; i += 2) {
      const stop = ranges[i + 1];
      r.pos = ranges[i];
      for (let f; (f = r.next(stop, VALUE_TYPE)) !== 0;) {
        if (f === 1) type = r.int64(stop);
        else unit = r.int64(stop);
      }
    }
    return { type: str(type, `${field}.type`), unit: str(unit, `${field}.unit`) };
  };

  // Pass 2, in the order the checks need: functions before the locations that name them,
  // locations before the samples.
  const functions: ProfileFunction[] = [];
  for (let k = 0; k < at.function.length; k += 2) {
    const stop = at.function[k + 1];
    r.pos = at.function[k];
    let id = 0,
      name = 0,
      systemName = 0,
      filename = 0,
      startLine = 0;
    for (let f; (f = r.next(stop, FUNCTION)) !== 0;) {
      switch (f) {
        case 1:
          id = r.uint64(stop);
          break;
        case 2:
          name = r.int64(stop);
          break;
        case 3:
          systemName = r.int64(stop);
          break;
        case 4:
          filename = r.int64(stop);
          break;
        case 5:
          startLine = r.int64(stop);
          break;
      }
    }
    functions.push({
      id,
      name: str(name, 'function.name'),
      systemName: str(systemName, 'function.system_name'),
      filename: str(filename, 'function.filename'),
      startLine,
    });
  }
  const functionIds = new Set(functions.map((f) => f.id));

  const locations: Location[] = [];
  for (let k = 0; k < at.location.length; k += 2) {
    const stop = at.location[k + 1];
    r.pos = at.location[k];
    let id = 0,
      mappingId = 0,
      address = 0,
      isFolded = false;
    const lines: Line[] = [];
    for (let f; (f = r.next(stop, LOCATION)) !== 0;) {
      switch (f) {
        case 1:
          id = r.uint64(stop);
          break;
        case 2:
          mappingId = r.uint64(stop);
          break;
        case 3:
          address = r.uint64(stop);
          break;
        case 4: {
          const lineStop = r.len(stop);
          let functionId = 0,
            line = 0,
            column = 0;
          for (let g; (g = r.next(lineStop, LINE)) !== 0;) {
            if (g === 1) functionId = r.uint64(lineStop);
            else if (g === 2) line = r.int64(lineStop);
            else column = r.int64(lineStop);
          }
          lines.push({ functionId, line, column });
          break;
        }
        case 5:
          isFolded = r.uint64(stop) !== 0;
          break;
      }
    }
    for (const x of lines) {
      if (!functionIds.has(x.functionId)) throw corrupt(`location ${id} names missing function ${x.functionId}`);
    }
    locations.push({ id, mappingId, address, isFolded, lines });
  }
  const locationIds = new Set(locations.map((l) => l.id));

  const sampleTypes: ValueType[] = [];
  for (let k = 0; k < at.sampleType.length; k += 2)
    sampleTypes.push(valueType(at.sampleType, k, 2, `sample_type[${k / 2}]`));

  const samples: Sample[] = [];
  const label: number[] = []; // a sample's labels as [key, str, num, num_unit] runs, resolved once it is checked
  for (let k = 0; k < at.sample.length; k += 2) {
    const stop = at.sample[k + 1];
    r.pos = at.sample[k];
    const ids: number[] = [];
    const values: number[] = [];
    label.length = 0;
    for (let f; (f = r.next(stop, SAMPLE)) !== 0;) {
      switch (f) {
        case 1:
          r.repeated(stop, ids, false);
          break;
        case 2:
          r.repeated(stop, values, true);
          break;
        case 3: {
          const labelStop = r.len(stop);
          let key = 0,
            s = 0,
            n = 0,
            unit = 0;
          for (let g; (g = r.next(labelStop, LABEL)) !== 0;) {
            if (g === 1) key = r.int64(labelStop);
            else if (g === 2) s = r.int64(labelStop);
            else if (g === 3) n = r.int64(labelStop);
            else unit = r.int64(labelStop);
          }
          label.push(key, s, n, unit);
          break;
        }
      }
    }
    const i = k / 2;
    for (const id of ids) {
      if (!locationIds.has(id)) throw corrupt(`sample ${i} names missing location ${id}`);
    }
    if (values.length !== sampleTypes.length)
      throw corrupt(`sample ${i} has ${values.length} values for ${sampleTypes.length} sample types`);
    const labels: Label[] = [];
    for (let j = 0; j < label.length; j += 4) {
      const key = str(label[j], 'label.key');
      if (label[j + 1] !== 0) {
        labels.push({ key, str: str(label[j + 1], 'label.str') });
        continue;
      }
      const unit = str(label[j + 3], 'label.num_unit');
      labels.push(unit ? { key, num: label[j + 2], numUnit: unit } : { key, num: label[j + 2] });
    }
    samples.push({ locationIds: ids, values, labels });
  }

  const mappings: Mapping[] = [];
  for (let k = 0; k < at.mapping.length; k += 2) {
    const stop = at.mapping[k + 1];
    r.pos = at.mapping[k];
    // uint64 id, memory_start, memory_limit, file_offset; int64 filename, build_id; 4 bools.
    const v = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let f; (f = r.next(stop, MAPPING)) !== 0;) v[f] = f === 5 || f === 6 ? r.int64(stop) : r.uint64(stop);
    mappings.push({
      id: v[1],
      memoryStart: v[2],
      memoryLimit: v[3],
      fileOffset: v[4],
      filename: str(v[5], 'mapping.filename'),
      buildId: str(v[6], 'mapping.build_id'),
      hasFunctions: v[7] !== 0,
      hasFilenames: v[8] !== 0,
      hasLineNumbers: v[9] !== 0,
      hasInlineFrames: v[10] !== 0,
    });
  }

  return {
    ...emptyProfile,
    sampleTypes,
    samples,
    mappings,
    locations,
    functions,
    dropFrames: str(dropFrames, 'drop_frames'),
    keepFrames: str(keepFrames, 'keep_frames'),
    timeNanos,
    durationNanos,
    periodType: at.periodType.length ? valueType(at.periodType, 0, at.periodType.length, 'period_type') : undefined,
    period,
    comments: comments.map((c) => str(c, 'comment')),
    defaultSampleType: str(defaultSampleType, 'default_sample_type'),
    docUrl: str(docUrl, 'doc_url'),
  };
}
