// ort.js — the ONNX Runtime peer, through the npm onnxruntime-node binding.
//
// One CPU session per model with 1 intra-op and 1 inter-op thread, sequential
// execution and every graph optimization on (ORT fuses conv+relu and picks its
// NCHWc blocked kernels itself).  The input tensor is built once; each timed
// call is one awaited session.run(), which is how a Node program calls ORT, so
// the binding's per-call cost (a few µs) is part of the number.  Warm-up and
// the median follow timing.h: at least 5 calls and 0.2 s, then at least 15
// calls until the budget ($BENCH_SECONDS, default 1 s) is spent; each call's
// process CPU time (all threads: ORT may run on a worker) is reported too.
//
// Usage: node ort.js MODEL.onnx INPUT_NCHW.bin N,C,H,W OUTPUT.bin
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'node_modules', 'onnxruntime-node'));

function nowUs() {
  return Number(process.hrtime.bigint()) / 1e3;
}

const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];

// Times calls of fn (awaited) within budgetUs, at least 15 and at most max:
// {wall, cpu} arrays of µs.
async function samples(fn, budgetUs, max) {
  const wall = [];
  const cpu = [];
  const start = nowUs();
  while (wall.length < 15 || (wall.length < max && nowUs() - start < budgetUs)) {
    const c0 = process.cpuUsage();
    const t0 = nowUs();
    await fn();
    wall.push(nowUs() - t0);
    const c = process.cpuUsage(c0);
    cpu.push(c.user + c.system);
  }
  return { wall, cpu };
}

async function measure(session, feeds) {
  // The CPU clock's own cost, measured on an empty call, is taken off.
  const overhead = median((await samples(() => undefined, 5e3, 1001)).cpu);
  let out;
  const warmStart = nowUs();
  for (let i = 0; i < 5 || nowUs() - warmStart < 2e5; i++) out = await session.run(feeds);
  const budget = parseFloat(process.env.BENCH_SECONDS || '1') * 1e6;
  const s = await samples(async () => { out = await session.run(feeds); }, budget, 20000);
  const wallMedian = median(s.wall);
  console.log(`median_us=${wallMedian.toFixed(3)} min_us=${s.wall[0].toFixed(3)} iters=${s.wall.length} ` +
    `cpu_median_us=${(median(s.cpu) - overhead).toFixed(3)}`);
  return out;
}

async function main() {
  const [model, inputPath, dimsText, outputPath] = process.argv.slice(2);
  if (!outputPath) {
    console.error('usage: node ort.js MODEL.onnx INPUT_NCHW.bin N,C,H,W OUTPUT.bin');
    process.exit(2);
  }
  const dims = dimsText.split(',').map(Number);
  const bytes = fs.readFileSync(inputPath);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(data), dims) };
  const out = await measure(session, feeds);
  const result = out[session.outputNames[0]].data;
  fs.writeFileSync(outputPath, Buffer.from(result.buffer, result.byteOffset, result.byteLength));
}

main().catch((e) => {
  console.error(`ort: ${e.message}`);
  process.exit(1);
});
