/**
 * A project folder can come from someone else (a workspace shared as a zip): what the
 * conductor serves and exports is only regular files inside it. A planted link leading out
 * (data/passwd.csv → /etc/passwd) is neither served nor exported nor loaded as data, a FIFO is
 * not read (it would hang), and a file that grows while it is sent (the event log) arrives
 * whole, with the length it was announced with.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { startConductor, type RunningConductor } from "../support/running-conductor";
import { removeTempWorkspaces } from "../support/temp-workspace";

describe("hostile project files", function () {
  this.timeout(120_000);
  let rc: RunningConductor;
  before(async () => (rc = await startConductor()));
  after(async () => (await rc.stop(), removeTempWorkspaces()));

  const get = (id: string, rel: string) =>
    fetch(`http://127.0.0.1:${rc.server.port}/api/projects/${id}/assets/${encodeURIComponent(rel)}`, {
      headers: { authorization: `Bearer ${rc.server.token}` },
    });

  it("serves and exports only regular files inside the project: a link leading out and a FIFO are left alone", async () => {
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", auto: true, pacing: false });
    await rc.conductor.idle(id);
    const dir = path.join(rc.conductor.projectsDir, id);
    fs.symlinkSync("/etc/passwd", path.join(dir, "data", "passwd.csv"));
    fs.symlinkSync("/etc", path.join(dir, "runs", "leak"));
    execFileSync("mkfifo", [path.join(dir, "data", "pipe.csv")]);
    fs.writeFileSync(path.join(dir, "data", "inside.txt"), "mine\n");
    fs.symlinkSync("inside.txt", path.join(dir, "data", "alias.txt")); // a link that stays inside is fine

    for (const rel of ["data/passwd.csv", "runs/leak/passwd", "data/pipe.csv"]) {
      const t0 = performance.now();
      const res = await get(id, rel);
      assert.equal(res.status, 404, rel);
      assert.match(((await res.json()) as { error: string }).error, /only regular files inside the project folder are served/);
      assert.ok(performance.now() - t0 < 2000, `${rel} answered at once`);
    }
    assert.equal(await (await get(id, "data/alias.txt")).text(), "mine\n");

    const zip = await rc.client.exportZip(id);
    const paths = zip.contents.map((c) => c.path);
    for (const leaked of ["data/passwd.csv", "data/pipe.csv"]) assert.ok(!paths.includes(leaked), `${leaked} is not exported`);
    assert.ok(!paths.some((p) => p.startsWith("runs/leak")), "a linked folder is not exported");
    assert.ok(paths.includes("data/inside.txt") && paths.includes("data/alias.txt"));
  });

  it("refuses a data file that is a link leading out of the project, saying what to do", async () => {
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", auto: true, pacing: false });
    await rc.conductor.idle(id);
    const dataFile = path.join(rc.conductor.projectsDir, id, "data", "boston-housing.csv");
    assert.ok(fs.existsSync(dataFile), fs.readdirSync(path.dirname(dataFile)).join(", "));
    fs.rmSync(dataFile);
    fs.symlinkSync("/etc/passwd", dataFile);
    await rc.client.parse(id, { prompt: "predict house prices" });
    await rc.conductor.idle(id);
    const { snapshot } = await rc.client.state(id);
    assert.equal(snapshot.stages.DATA_SOURCE.status, "failed");
    assert.match(snapshot.stages.DATA_SOURCE.message, /not a regular file inside the project folder .*put the data file itself there/);
  });

  it("sends a file that grows while it is sent (as the event log does) as it was when asked for: the body has the length it was announced with", async () => {
    const { project_id: id } = await rc.client.createProject({ prompt: "predict house prices", auto: true, pacing: false });
    await rc.conductor.idle(id);
    // big enough that the server is still reading it when the first bytes arrive; it grows then, as a log does
    const file = path.join(rc.conductor.projectsDir, id, "runs", "growing.log");
    fs.writeFileSync(file, "x".repeat(32 * 1024 * 1024));
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket: net.Socket = net.connect(rc.server.port, "127.0.0.1", () =>
        socket.write(
          `GET /api/projects/${id}/assets/runs%2Fgrowing.log HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${rc.server.token}\r\nConnection: close\r\n\r\n`,
        ),
      );
      socket.once("data", () => {
        socket.pause();
        fs.appendFileSync(file, "y".repeat(1024 * 1024));
        socket.resume();
      });
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("end", () => resolve(Buffer.concat(chunks)));
      socket.on("error", reject);
    });
    const headerEnd = raw.indexOf("\r\n\r\n");
    const length = Number(/content-length: (\d+)/i.exec(raw.subarray(0, headerEnd).toString("latin1"))?.[1]);
    const body = raw.subarray(headerEnd + 4);
    assert.equal(length, 32 * 1024 * 1024);
    assert.equal(body.length, length, "each body has the length it was announced with: nothing after it to corrupt the next response");
    assert.ok(!body.includes("y"), "the bytes appended while it was sent are not in it");
  });
});
