/**
 * Flight-delay datasets for the test Hub (test/support/test-hub-server.ts), shared by the data
 * finder's tests, the e2e test and its benchmark: a GPL one with the most downloads (to be
 * rejected whatever its popularity), a CC-BY-4.0 one, and optionally a CC0 one that matches
 * about as well (to make the choice unclear). Real data: vega-datasets' flights.
 */
import type { HubDataset, HubFile } from "./test-hub-server";

/** The card the Hub shows: a pretty name, the license, the columns and the download size. */
export function flightsCard(license: string, downloadSize: number): Record<string, unknown> {
  return {
    pretty_name: "US flight delays",
    license,
    dataset_info: {
      download_size: downloadSize,
      features: ["date", "delay", "distance", "origin", "destination"].map((name) => ({
        name,
        dtype: name === "delay" || name === "distance" ? "int64" : "string",
      })),
    },
  };
}

/** The datasets, each serving `data` (bytes or a file on disk, its format by `extension`) under its own path. */
export function flightDelayDatasets(
  data: Omit<HubFile, "path">,
  options: { extension: ".json" | ".csv"; downloadSize: number; closeSecond?: boolean },
): HubDataset[] {
  const ext = options.extension;
  const card = (license: string) => flightsCard(license, options.downloadSize);
  const datasets: HubDataset[] = [
    {
      id: "copyleft-air/flight-delays",
      downloads: 90_000,
      tags: ["license:gpl-3.0", "task_categories:tabular-regression"],
      cardData: card("gpl-3.0"),
      files: [{ path: `flights${ext}`, ...data }],
    },
    {
      id: "open-aviation/flight-delays",
      downloads: 1_200,
      tags: ["license:cc-by-4.0", "task_categories:tabular-regression"],
      cardData: card("cc-by-4.0"),
      files: [
        { path: "README.md", bytes: Buffer.from("# US flight delays\n") },
        { path: `data/flights-train${ext}`, ...data },
      ],
    },
  ];
  if (options.closeSecond !== false) {
    datasets.push({
      id: "skyways/flight-delays-2001",
      downloads: 1_100,
      tags: ["license:cc0-1.0", "task_categories:tabular-regression"],
      cardData: card("cc0-1.0"),
      files: [{ path: `delays${ext}`, ...data }],
    });
  }
  return datasets;
}
