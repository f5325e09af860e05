/* What a whole-file reader of the OGP files reports about rows: refusals and caveats, by record. */

/** A row that could not be loaded; `record` is `line N` or the commitment id. */
export interface Refusal {
  record: string;
  reason: string;
}

/** A row loaded with a caveat. `column` names the export column the caveat is about, when there is one. */
export interface RowWarning {
  record: string;
  message: string;
  column?: string;
}

/** Something wrong with (or worth saying about) a cell of one row: its column, the value and why. */
export interface OgpCellIssue {
  column: string | null;
  value: string | null;
  message: string;
}
