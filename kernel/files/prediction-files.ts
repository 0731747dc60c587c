/**
 * The names of what `automl predict` writes beside a data file NAME.csv (NAME.predictions.csv,
 * and NAME.predictions.report.csv when rows had problems): here, below both the prediction code
 * (which writes them) and the data finder (which must not take them for data to train on).
 */
export const PREDICTIONS_SUFFIX = ".predictions.csv";
export const PREDICTIONS_REPORT_SUFFIX = ".predictions.report.csv";
