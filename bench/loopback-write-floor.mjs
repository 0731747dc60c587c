// The floor under the event stream's fan-out on this machine: how long one process takes to
// write a small buffer to N loopback TCP sockets (read by another process's threads), and
// what each write costs in CPU, user and kernel. No WebSocket, no conductor: what is left when
// everything of ours is taken away. bench/conductor-under-load.mjs measures the real thing.
//
// Usage: node bench/loopback-write-floor.mjs [--sockets 1000] [--rounds 100] [--bytes 1500]
import { fork } from "node:child_process";
import net from "node:net";
import { Worker, isMainThread, workerData } from "node:worker_threads";

const READER_THREADS = 4;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return Number(at >= 0 ? process.argv[at + 1] : fallback);
}

async function writer() {
  const n = option("sockets", 1000);
  const rounds = option("rounds", 100);
  const buffer = Buffer.alloc(option("bytes", 1500), 0x61);
  const sockets = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    sockets.push(s);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const readers = fork(new URL(import.meta.url).pathname, ["--readers", String(server.address().port), String(n)]);
  while (sockets.length < n) await new Promise((r) => setTimeout(r, 50));
  const times = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    for (const s of sockets) s.write(buffer);
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 50)); // the readers catch up between rounds
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const perWrite = (us) => (us / rounds / n).toFixed(2);
  console.log(
    `${n} sockets, ${buffer.length} B each, ${rounds} rounds: round p50 ${times[rounds >> 1].toFixed(1)} ms, p99 ${times[Math.floor(rounds * 0.99)].toFixed(1)} ms; ` +
      `CPU per write ${perWrite(cpu.user + cpu.system)} µs (user ${perWrite(cpu.user)}, kernel ${perWrite(cpu.system)}); ${process.platform} ${process.arch}, node ${process.version}`,
  );
  readers.kill();
  server.close();
  for (const s of sockets) s.destroy();
}

if (!isMainThread) {
  for (let i = 0; i < workerData.n; i++) net.connect(workerData.port, "127.0.0.1").on("data", () => undefined);
} else if (process.argv[2] === "--readers") {
  const [port, n] = process.argv.slice(3).map(Number);
  for (let t = 0; t < READER_THREADS; t++) new Worker(new URL(import.meta.url), { workerData: { port, n: Math.ceil(n / READER_THREADS) } });
} else {
  await writer();
}
