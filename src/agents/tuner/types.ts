/** One numeric constant marked with `@tune` in an editable file. */
export interface TunedParam {
  /** Unique across the workspace: the assigned identifier, else "<file>:<line>". */
  name: string;
  /** Path relative to the workspace root, with "/" separators. */
  file: string;
  /** 1-based line number. */
  line: number;
  low: number;
  high: number;
  /** Whole numbers only. */
  int: boolean;
  /** Searched on a log scale (low > 0). */
  log: boolean;
  /** The value written in the file now. */
  value: number;
  /** The exact characters of that value in the file (sign, "_" and exponent included). */
  literal: string;
  /** 0-based offset of `literal` in its line. */
  column: number;
}

/** One constant a proposal changes, with the text written in place of the old literal. */
export interface TuningChange {
  name: string;
  from: number;
  to: number;
  fromText: string;
  toText: string;
}
