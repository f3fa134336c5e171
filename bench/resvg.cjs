// resvg-js timed in one persistent Node process, for bench/rivals.py.
// stdin: one JSON job {"fonts": [paths], "svgs": {name: path}, "runs": N, "warmup": N};
// stdout: one JSON answer {name: {"ms": [render + PNG encode, per run], "bytes": N}}.
// The clock runs inside Node, so neither process start nor the pipe is counted.
"use strict";
const fs = require("fs");
const path = require("path");

const modules = path.join(__dirname, ".node", "node_modules");
const { Resvg } = require(path.join(modules, "@resvg", "resvg-js"));

function timeOne(svg, options, runs, warmup) {
  let png = null;
  const ms = [];
  for (let i = 0; i < warmup + runs; i++) {
    const start = process.hrtime.bigint();
    png = new Resvg(svg, options).render().asPng();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= warmup) ms.push(elapsed);
  }
  return { ms, bytes: png.length };
}

const job = JSON.parse(fs.readFileSync(0, "utf8"));
const options = {
  font: { fontFiles: job.fonts, loadSystemFonts: false, defaultFontFamily: "Inter" },
};
const answer = {};
for (const [name, file] of Object.entries(job.svgs)) {
  answer[name] = timeOne(fs.readFileSync(file), options, job.runs, job.warmup);
}
process.stdout.write(JSON.stringify(answer));
