#!/usr/bin/env node
// bench_ort - the ONNX Runtime side of `make bench`, part 2: greedy decoding
// with the graphs tools/bench/onnx_export.py wrote, in ONNX Runtime for
// Node.js on one intra-op thread, written as a user of the library would
// write it: encoder once per batch, then one decoder-step call per token
// with arg-max inside the graph, finished sentences dropped from the batch.
//
//   NODE_PATH=build/bench/node/node_modules node tools/bench/bench_ort.js \
//       DIR IDS.jsonl OUT.jsonl --batch B [--max-length L] [--threads N]
//
// DIR and IDS.jsonl are onnx_export.py's output (encoder.onnx, step.onnx,
// meta.json; source ids per line). --batch 1 decodes one sentence at a time; with B > 1 the
// sentences are sorted by length (longest first) and decoded B at a time,
// padded, like bench_torch.py's batches. OUT.jsonl gets {"id", "tokens"}
// per input line (target token strings, eos excluded); standard output one
// JSON object: decode_s (wall clock of all decoding, the graphs' loading
// excluded), decode_cpu_s (CPU time of the process over the same span),
// sentences, target_tokens (eos included when emitted), latencies_ms (batch
// 1: per sentence), ort_version.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const a = { dir: argv[0], ids: argv[1], out: argv[2], batch: 1, maxLength: 0, threads: 1, repeat: 1 };
  for (let i = 3; i < argv.length; i += 2) {
    if (argv[i] === '--batch') a.batch = parseInt(argv[i + 1], 10);
    else if (argv[i] === '--max-length') a.maxLength = parseInt(argv[i + 1], 10);
    else if (argv[i] === '--threads') a.threads = parseInt(argv[i + 1], 10);
    else if (argv[i] === '--repeat') a.repeat = parseInt(argv[i + 1], 10);
    else throw new Error('bench_ort: unknown option ' + argv[i]);
  }
  return a;
}

// rows `keep` of a tensor whose dimension `axis` (0 or 1) is the batch
function gather(t, keep, axis) {
  const d = t.dims, data = t.data;
  const outer = axis === 0 ? 1 : d[0], B = d[axis];
  const inner = data.length / (outer * B);
  const res = new data.constructor(outer * keep.length * inner);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < keep.length; j++)
      res.set(data.subarray((o * B + keep[j]) * inner, (o * B + keep[j] + 1) * inner),
              (o * keep.length + j) * inner);
  const nd = d.slice();
  nd[axis] = keep.length;
  return new ort.Tensor(t.type, res, nd);
}

async function decodeBatch(enc, step, meta, srcs, maxLength) {
  // srcs sorted longest first
  const S = srcs.length, n = srcs[0].length;
  const ids = new BigInt64Array(S * n), lens = new BigInt64Array(S), pad = new Uint8Array(S * n);
  for (let s = 0; s < S; s++) {
    lens[s] = BigInt(srcs[s].length);
    for (let j = 0; j < n; j++) {
      if (j < srcs[s].length) ids[s * n + j] = BigInt(srcs[s][j]);
      else pad[s * n + j] = 1;
    }
  }
  const e = await enc.run({ ids: new ort.Tensor('int64', ids, [S, n]),
                            lens: new ort.Tensor('int64', lens, [S]) });
  let memory = e.memory, keys = e.keys, padT = new ort.Tensor('bool', pad, [S, n]);
  let h = e.h0, c = meta.lstm ? e.c0 : null;
  let feed = meta.feed ? new ort.Tensor('float32', new Float32Array(S * meta.hidden), [S, meta.hidden]) : null;
  let alive = [...Array(S).keys()];
  const limit = srcs.map((x) => maxLength || meta.max_length_config || 2 * x.length + 10);
  const toks = srcs.map(() => []), fin = srcs.map(() => false);
  let y = new BigInt64Array(S).fill(BigInt(meta.sos));
  for (let t = 1; alive.length; t++) {
    const feeds = { y: new ort.Tensor('int64', y, [alive.length]), h, memory, keys, pad: padT };
    if (c) feeds.c = c;
    if (feed) feeds.feed = feed;
    const o = await step.run(feeds);
    const best = o.best.data, keep = [], next = [];
    for (let r = 0; r < alive.length; r++) {
      const s = alive[r], v = Number(best[r]);
      if (v === meta.eos) { fin[s] = true; continue; }
      toks[s].push(v);
      if (t >= limit[s]) continue;
      keep.push(r);
      next.push(best[r]);
    }
    h = o.h_out; c = c ? o.c_out : null; feed = feed ? o.feed_out : null;
    if (keep.length < alive.length && keep.length) {
      memory = gather(memory, keep, 0); keys = gather(keys, keep, 0); padT = gather(padT, keep, 0);
      h = gather(h, keep, 1);
      if (c) c = gather(c, keep, 1);
      if (feed) feed = gather(feed, keep, 0);
    }
    alive = keep.map((r) => alive[r]);
    y = BigInt64Array.from(next);
  }
  return toks.map((tk, s) => ({ tokens: tk, finished: fin[s] }));
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const meta = JSON.parse(fs.readFileSync(path.join(a.dir, 'meta.json'), 'utf8'));
  const srcs = fs.readFileSync(a.ids, 'utf8').split('\n')
    .filter((l) => l.trim()).map((l) => JSON.parse(l));
  const opt = { intraOpNumThreads: a.threads, interOpNumThreads: 1, executionMode: 'sequential',
                graphOptimizationLevel: 'all' };
  const enc = await ort.InferenceSession.create(path.join(a.dir, 'encoder.onnx'), opt);
  const step = await ort.InferenceSession.create(path.join(a.dir, 'step.onnx'), opt);
  await decodeBatch(enc, step, meta, [srcs[0]], a.maxLength); // warm-up, not timed

  const order = [...srcs.keys()];
  if (a.batch > 1) order.sort((i, j) => srcs[j].length - srcs[i].length || i - j);
  const results = new Array(srcs.length);
  let wall = Infinity, cu = null, lat = [];
  for (let rep = 0; rep < Math.max(a.repeat, 1); rep++) { // the same work each time; the fastest is kept
    const runLat = [];
    const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    for (let s = 0; s < order.length; s += a.batch) {
      const chunk = order.slice(s, s + a.batch);
      const t1 = process.hrtime.bigint();
      const res = await decodeBatch(enc, step, meta, chunk.map((i) => srcs[i]), a.maxLength);
      runLat.push(Number(process.hrtime.bigint() - t1) / 1e6);
      chunk.forEach((i, k) => { results[i] = res[k]; });
    }
    const w = Number(process.hrtime.bigint() - t0) / 1e9;
    if (w < wall) {
      wall = w;
      cu = process.cpuUsage(c0);
      lat = runLat;
    }
  }
  let tokens = 0;
  const lines = results.map((r, i) => {
    tokens += r.tokens.length + (r.finished ? 1 : 0);
    return JSON.stringify({ id: i, tokens: r.tokens.map((v) => meta.target_vocab[v]) });
  });
  fs.writeFileSync(a.out, lines.join('\n') + '\n');
  let version = '?';
  try {
    version = require('onnxruntime-node/package.json').version;
  } catch (err) { /* keep '?' */ }
  console.log(JSON.stringify({ decode_s: wall, decode_cpu_s: (cu.user + cu.system) / 1e6,
                               sentences: srcs.length, target_tokens: tokens,
                               latencies_ms: a.batch === 1 ? lat : null, ort_version: version }));
}

main().catch((err) => { console.error('bench_ort: ' + (err && err.stack || err)); process.exit(1); });
