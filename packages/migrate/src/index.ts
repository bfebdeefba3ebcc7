export type { ImportRecord, ImportSource, RecordIssue } from './import-record.ts';
export { STATUS_ON_IMPORT } from './import-record.ts';
export { parseJsonLine } from './json-line.ts';
export { csvRecord, CSV_COLUMNS, unknownColumns } from './csv-record.ts';
export { FileSource, formatOf, MAX_LINE_CHARS, type FileFormat } from './file-source.ts';
export { Checkpoint, type CheckpointState } from './checkpoint.ts';
export { ErrorReport, type ReportEntry } from './error-report.ts';
export { ProgressMeter, progressBar, progressLine, formatDuration, formatRate } from './progress.ts';
export { runImport, type ImportCounts, type ImportSummary, type WriteBatch, type WriteResult } from './run-import.ts';
export {
  parseReferenceKey,
  decryptReferenceToken,
  platformRecord,
  type PlatformConnectionRow,
} from './platform-connections.ts';
export { parseNangoKey, openNangoCredentials, nangoRecord, type NangoConnectionRow } from './nango.ts';
export { PlatformConnectionsSource, NangoSource, quoteTable } from './table-source.ts';
export { SourceError } from './source-error.ts';
export { exportLine, type ExportedConnection } from './export-line.ts';
