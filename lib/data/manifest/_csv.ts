/**
 * Splitting CSV text (RFC 4180) into records, line by line, for the manifest
 * reader. Private to `lib/data/manifest/`.
 *
 * @module
 */
import { type Line, lineProblem } from "./_lines.ts";

/** One CSV record, or the reason it cannot be used. */
export interface CsvRecord {
  /** 1-based line where the record starts. */
  row: number;
  fields: string[];
  error?: string;
}

/** The record being read: its fields so far and the quote state. */
class CsvRecordState {
  row = 0;
  fields: string[] = [];
  field = "";
  inQuotes = false;
  fieldStart = true;
  afterQuote = false;
  error: string | undefined;
  size = 0;

  /** Starts a record at `line`. */
  start(line: number): void {
    this.row = line;
    this.fields = [];
    this.field = "";
    this.fieldStart = true;
    this.afterQuote = false;
    this.error = undefined;
    this.size = 0;
  }

  /** Adds a line without quotes (when not inside quotes): split at every comma. */
  addPlain(text: string, keep: boolean): void {
    const cells = text.split(",");
    if (!keep) return;
    this.field += cells[0];
    if (cells[0].length > 0 && this.afterQuote) this.error ??= "text after a closing quote";
    for (let i = 1; i < cells.length; i++) {
      this.fields.push(this.field);
      this.field = cells[i];
    }
  }

  /** Adds a line character by character, following quotes. */
  addQuoted(text: string, keep: boolean): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (this.inQuotes) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            if (keep) this.field += '"';
            i++;
          } else {
            this.inQuotes = false;
            this.afterQuote = true;
          }
        } else if (keep) this.field += c;
      } else if (c === ",") {
        this.fields.push(this.field);
        this.field = "";
        this.fieldStart = true;
        this.afterQuote = false;
      } else if (c === '"' && this.fieldStart) {
        this.inQuotes = true;
        this.fieldStart = false;
      } else {
        if (c === '"') this.error ??= "quote inside an unquoted field";
        else if (this.afterQuote) this.error ??= "text after a closing quote";
        this.fieldStart = false;
        if (keep) this.field += c;
      }
    }
  }

  /** Adds one line of the record; problems of the line or the size become the record's error. */
  addLine(line: Line, maxBytes: number): void {
    const problem = lineProblem(line, maxBytes);
    if (problem) this.error ??= line.line === this.row ? problem : `line ${line.line}: ${problem}`;
    this.size += line.text.length + 1;
    if (this.size > maxBytes) this.error ??= `record longer than ${maxBytes} bytes`;
    const keep = this.size <= maxBytes;
    if (!this.inQuotes && !line.text.includes('"')) this.addPlain(line.text, keep);
    else this.addQuoted(line.text, keep);
  }

  /** The finished record; ready for the next one. */
  finish(): CsvRecord {
    this.fields.push(this.field);
    const record = { row: this.row, fields: this.fields, error: this.error };
    this.fieldStart = true;
    this.afterQuote = false;
    return record;
  }
}

/**
 * Splits CSV lines into records (RFC 4180: quoted fields may hold `,`, `""` and line ends).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { csvRecords } from "./_csv.ts";
 * import type { Line } from "./_lines.ts";
 * async function* lines(...texts: string[]) {
 *   let n = 0;
 *   for (const text of texts) yield { line: ++n, text, badUtf8: false, overlong: false } as Line;
 * }
 * const records = await Array.fromAsync(csvRecords(lines('a,"b,', 'c"', "", 'd,"x""y"'), 1000));
 * assert.deepEqual(records.map((r) => [r.row, r.fields]), [[1, ["a", "b,\nc"]], [4, ["d", 'x"y']]]);
 * ```
 */
export async function* csvRecords(
  lines: AsyncGenerator<Line>,
  maxBytes: number,
): AsyncGenerator<CsvRecord> {
  const record = new CsvRecordState();
  let active = false;
  for await (const line of lines) {
    if (!active) {
      if (!line.overlong && !line.badUtf8 && line.text.trim() === "") continue; // blank line
      const problem = line.overlong ? lineProblem(line, maxBytes) : undefined;
      if (problem) {
        yield { row: line.line, fields: [], error: problem };
        continue;
      }
      active = true;
      record.start(line.line);
    } else {
      if (line.overlong) {
        // The quote state beyond the cap is unknown: end the record here.
        yield {
          row: record.row,
          fields: [],
          error: `quoted field runs into line ${line.line}, longer than ${maxBytes} bytes`,
        };
        active = false;
        record.inQuotes = false;
        continue;
      }
      if (record.size <= maxBytes) record.field += "\n";
    }
    record.addLine(line, maxBytes);
    if (!record.inQuotes) {
      yield record.finish();
      active = false;
    }
  }
  if (active) {
    yield { row: record.row, fields: [], error: "quoted field is never closed (end of file)" };
  }
}
