/** A study's report and its figures, written together (the old ones replaced only when both are done). */
import * as path from 'node:path';
import { WriteBatch } from '../io/files';
import { exportFigures, ExportResult } from './export';
import type { PlotlyFigure } from './style';

/**
 * Exports `figures` into `figDir` (HTML, and SVG/PNG/PDF where Chromium runs) and writes `file`
 * with the Markdown `markdown` makes from the figure files' paths relative to the report.
 */
export async function writeReport(o: {
  file: string;
  figDir: string;
  figures: Record<string, PlotlyFigure>;
  markdown: (figureFiles: string[]) => string;
  log: (line: string) => void;
}): Promise<ExportResult> {
  const batch = new WriteBatch(); // the report and its figures replace the old ones together
  const r = await exportFigures(o.figures, o.figDir, { batch, log: o.log });
  const rel = (f: string) =>
    path
      .relative(path.dirname(path.resolve(o.file)), path.resolve(f))
      .split(path.sep)
      .join('/');
  batch.add(o.file, o.markdown(r.written.map(rel))).commit();
  return r;
}
