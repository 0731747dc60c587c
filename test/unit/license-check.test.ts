import { strict as assert } from "node:assert";
import { bundleReadme } from "../../kernel/export/bundle-files";
import { emptySnapshot } from "../../contract";
import { checkLicense } from "../../kernel/agents/license-check";
import { renderReport } from "../../kernel/export/project-report";

describe("the license validator (002_…)", () => {
  const cases: Array<[string | null, "allowed" | "warning" | "rejected", string]> = [
    // as the Hugging Face Hub tags them
    ["mit", "allowed", "MIT"],
    ["license:apache-2.0", "allowed", "Apache-2.0"],
    ["bsd-2-clause", "allowed", "BSD-2-Clause"],
    ["bsd-3-clause", "allowed", "BSD-3-Clause"],
    ["cc-by-4.0", "allowed", "CC-BY-4.0"],
    ["cc-by-sa-4.0", "allowed", "CC-BY-SA-4.0"],
    ["cc0-1.0", "allowed", "CC0-1.0"],
    ["odc-by", "allowed", "ODC-By-1.0"],
    ["pddl", "allowed", "PDDL-1.0"],
    ["cc-by-nc-4.0", "warning", "CC-BY-NC-4.0"],
    ["cc-by-nc-sa-4.0", "warning", "CC-BY-NC-SA-4.0"],
    ["cc-by-nc-nd-4.0", "rejected", "CC-BY-NC-ND-4.0"],
    ["cc-by-nd-4.0", "rejected", "CC-BY-ND-4.0"],
    ["gpl-3.0", "rejected", "GPL-3.0"],
    ["agpl-3.0", "rejected", "AGPL-3.0"],
    ["lgpl-2.1", "rejected", "LGPL-2.1"],
    ["other", "rejected", "other"],
    ["unknown", "rejected", "unknown"],
    ["", "rejected", "unknown"],
    [null, "rejected", "unknown"],
    ["openrail", "rejected", "openrail"],
    // as Kaggle names them
    ["CC0: Public Domain", "allowed", "CC0-1.0"],
    ["Attribution 4.0 International (CC BY 4.0)", "allowed", "CC-BY-4.0"],
    ["CC BY-SA 4.0", "allowed", "CC-BY-SA-4.0"],
    ["Attribution-NonCommercial-ShareAlike 4.0 International (CC BY-NC-SA 4.0)", "warning", "CC-BY-NC-SA-4.0"],
    ["Attribution-NoDerivatives 4.0 International (CC BY-ND 4.0)", "rejected", "CC-BY-ND-4.0"],
    ["Open Data Commons Attribution License (ODC-By) v1.0", "allowed", "ODC-By-1.0"],
    ["Database: Open Database, Contents: Database Contents", "rejected", "ODbL-1.0"],
    ["GPL 2", "rejected", "GPL 2"],
    ["Apache 2.0", "allowed", "Apache-2.0"],
    ["Other (specified in description)", "rejected", "Other (specified in description)"],
    ["Data files © Original Authors", "rejected", "Data files © Original Authors"],
    ["CC BY-SA 3.0", "allowed", "CC-BY-SA-3.0"],
  ];
  for (const [stated, decision, license] of cases) {
    it(`${JSON.stringify(stated)}: ${decision} as ${license}`, () => {
      const v = checkLicense(stated);
      assert.equal(v.decision, decision, v.note);
      assert.equal(v.license, license);
      assert.equal(v.allowed, decision !== "rejected");
      assert.equal(v.research_only, decision === "warning");
      assert.ok(v.note.length > 5);
    });
  }

  it("says why each rejection is one", () => {
    assert.match(checkLicense("gpl-3.0").note, /copyleft/);
    assert.match(checkLicense("cc-by-nd-4.0").note, /no derivatives/);
    assert.match(checkLicense(null).note, /no license stated/);
    assert.match(checkLicense("cc-by-nc-4.0").note, /research \/ demo only/);
  });
});

describe("the report on the data's license", () => {
  const withData = (meta: Record<string, unknown>) => {
    const s = emptySnapshot("p");
    s.dataset_candidates = [{ id: "d", name: "Some data", source: "hf", desc: "", meta }];
    s.dataset_id = "d";
    return renderReport(s, "predict y");
  };

  it("says research / demo only for non-commercial data, and that no license is known for the person's own", () => {
    const nc = checkLicense("cc-by-nc-4.0");
    assert.match(
      withData({ license: nc.license, research_only: nc.research_only }),
      /\*\*Research \/ demo only\.\*\* The data's license \(CC-BY-NC-4\.0\) does not allow commercial use/,
    );
    assert.match(withData({ license: "none known" }), /No license is known for this data: it is yours/);
    const mit = withData({ license: "MIT", research_only: false });
    assert.doesNotMatch(mit, /Research \/ demo only|No license is known/);
  });

  it("and so does the export bundle's README", () => {
    const readme = (researchOnly: string | null) => bundleReadme({ projectId: "p", prompt: "predict y", model: null, sampleRows: null, researchOnly });
    assert.match(
      readme("CC-BY-NC-4.0"),
      /\*\*Research \/ demo only\.\*\* The data it was trained on is licensed CC-BY-NC-4\.0, which does not allow commercial use, and neither does this model/,
    );
    assert.doesNotMatch(readme(null), /Research/);
  });
});
