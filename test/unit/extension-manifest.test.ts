import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_FILE_EXTENSIONS } from "../../contract";

interface MenuItem {
  command: string;
  when: string;
}

describe("the extension's manifest", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as {
    contributes: { menus: Record<string, MenuItem[]> };
  };

  it("offers Predict with Model on every data file the loader reads, and not inside a project's folder", () => {
    const item = manifest.contributes.menus["explorer/context"]!.find((m) => m.command === "automl.predictWithModel")!;
    const pattern = /resourcePath =~ \/(.*)\/(\w*)$/.exec(item.when);
    assert.ok(pattern, item.when);
    const re = new RegExp(pattern[1]!, pattern[2]);
    for (const ext of DATA_FILE_EXTENSIONS) {
      assert.ok(re.test(`/home/me/work/data.${ext}`), `.${ext}`);
      assert.ok(re.test(`C:\\work\\DATA.${ext.toUpperCase()}`), `.${ext} on Windows, any case`);
    }
    assert.ok(!re.test("/home/me/work/.automl/projects/p/data/train.csv"));
    assert.ok(!re.test("/home/me/work/notes.md"));
  });
});
