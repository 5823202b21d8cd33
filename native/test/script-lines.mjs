// scriptLines on a tracked thread: a script compiled at line and column offsets, asked by the
// id V8 gives it (the inspector reports the same id the code log does). Prints what the addon
// answered beside the truth counted from the source here.
import { createRequire } from 'node:module';
import { Session } from 'node:inspector';
import vm from 'node:vm';

const binding = createRequire(import.meta.url)('../index.js').status().binding;
binding.trackCode();
const source = 'globalThis.f = function f(x) {\n\r\n  return x + 1; // here\r\n};\nf(1);\n';
new vm.Script(source, { filename: 'lines-fixture.js', lineOffset: 10, columnOffset: 4 }).runInThisContext();

const session = new Session();
session.connect();
const parsed = [];
session.on('Debugger.scriptParsed', (m) => parsed.push(m.params));
session.post('Debugger.enable', () => {
  const id = Number(parsed.find((p) => p.url === 'lines-fixture.js').scriptId);
  const marks = ['globalThis', 'return', 'here', 'f(1)'].map((m) => source.indexOf(m));
  // V8 counts \r\n as one line end and a lone \r as one.
  const truth = marks.map((o) => {
    const before = source.slice(0, o).replace(/\r\n/g, '\n').replace(/\r/g, '\n');
    const line = before.split('\n').length - 1;
    const column = before.length - before.lastIndexOf('\n') - 1;
    return [11 + line, 1 + column + (line === 0 ? 4 : 0)];
  });
  const got = binding.scriptLines(id, Int32Array.from([...marks, source.length + 100]));
  console.log(
    JSON.stringify({
      name: got?.name,
      lines: got ? [...got.lines] : null,
      truth: [...truth.flat(), 0, 0],
      unknown: binding.scriptLines(2 ** 30, new Int32Array(1)) ?? null,
    }),
  );
  session.disconnect();
});
