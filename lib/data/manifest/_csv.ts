/**
 * Splitting CSV text (RFC 4180) into records, line by line, for the manifest
 * reader. Private to `lib/data/`.
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

/** Splits CSV lines into records (RFC 4180: quoted fields may hold `,`, `""` and line ends). */
export async function* csvRecords(
  lines: AsyncGenerator<Line>,
  maxBytes: number,
): AsyncGenerator<CsvRecord> {
  let active = false;
  let row = 0;
  let fields: string[] = [];
  let field = "";
  let inQuotes = false;
  let fieldStart = true;
  let afterQuote = false;
  let error: string | undefined;
  let size = 0;
  for await (const line of lines) {
    if (!active) {
      if (!line.overlong && !line.badUtf8 && line.text.trim() === "") continue; // blank line
      const problem = line.overlong ? lineProblem(line, maxBytes) : undefined;
      if (problem) {
        yield { row: line.line, fields: [], error: problem };
        continue;
      }
      active = true;
      row = line.line;
      fields = [];
      field = "";
      fieldStart = true;
      afterQuote = false;
      error = undefined;
      size = 0;
    } else {
      if (line.overlong) {
        // The quote state beyond the cap is unknown: end the record here.
        yield {
          row,
          fields: [],
          error: `quoted field runs into line ${line.line}, longer than ${maxBytes} bytes`,
        };
        active = false;
        inQuotes = false;
        continue;
      }
      if (size <= maxBytes) field += "\n";
    }
    const problem = lineProblem(line, maxBytes);
    if (problem) error ??= line.line === row ? problem : `line ${line.line}: ${problem}`;
    size += line.text.length + 1;
    if (size > maxBytes) error ??= `record longer than ${maxBytes} bytes`;
    const keep = size <= maxBytes;
    const text = line.text;
    if (!inQuotes && !text.includes('"')) {
      // Fast path: no quotes on this line.
      const cells = text.split(",");
      if (keep) {
        field += cells[0];
        if (cells[0].length > 0 && afterQuote) error ??= "text after a closing quote";
        for (let i = 1; i < cells.length; i++) {
          fields.push(field);
          field = cells[i];
        }
      }
    } else {
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inQuotes) {
          if (c === '"') {
            if (text[i + 1] === '"') {
              if (keep) field += '"';
              i++;
            } else {
              inQuotes = false;
              afterQuote = true;
            }
          } else if (keep) field += c;
        } else if (c === ",") {
          fields.push(field);
          field = "";
          fieldStart = true;
          afterQuote = false;
        } else if (c === '"' && fieldStart) {
          inQuotes = true;
          fieldStart = false;
        } else {
          if (c === '"') error ??= "quote inside an unquoted field";
          else if (afterQuote) error ??= "text after a closing quote";
          fieldStart = false;
          if (keep) field += c;
        }
      }
    }
    if (!inQuotes) {
      fields.push(field);
      yield { row, fields, error };
      active = false;
      fieldStart = true;
      afterQuote = false;
    }
  }
  if (active) yield { row, fields: [], error: "quoted field is never closed (end of file)" };
}
