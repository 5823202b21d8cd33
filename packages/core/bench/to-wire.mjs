// The message-object form of a profile (strings → string-table indices, snake_case fields),
// which protobufjs's generated encoders take. Only the benchmark needs it: core encodes
// straight from the model.
export function toWire(p) {
  const strings = [''];
  const index = new Map([['', 0]]);
  const id = (s) => {
    let i = index.get(s);
    if (i === undefined) index.set(s, (i = strings.push(s) - 1));
    return i;
  };
  const vt = (v) => ({ type: id(v.type), unit: id(v.unit) });
  return {
    sample_type: p.sampleTypes.map(vt),
    sample: p.samples.map((s) => ({
      location_id: s.locationIds,
      value: s.values,
      label: s.labels.map((l) => ({ key: id(l.key), str: id(l.str ?? '') })),
    })),
    mapping: p.mappings.map((m) => ({ id: m.id, filename: id(m.filename), has_functions: m.hasFunctions })),
    location: p.locations.map((l) => ({
      id: l.id,
      mapping_id: l.mappingId,
      line: l.lines.map((x) => ({ function_id: x.functionId, line: x.line })),
    })),
    function: p.functions.map((f) => ({
      id: f.id,
      name: id(f.name),
      system_name: id(f.systemName),
      filename: id(f.filename),
      start_line: f.startLine,
    })),
    time_nanos: p.timeNanos,
    duration_nanos: p.durationNanos,
    period_type: vt(p.periodType),
    period: p.period,
    comment: p.comments.map(id),
    default_sample_type: id(p.defaultSampleType),
    string_table: strings,
  };
}
