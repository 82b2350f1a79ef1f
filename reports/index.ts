import { lolkvReport } from './lolkv.js';
import type { ReportDefinition } from './report.js';
import { rowanReport } from './rowan.js';

/**
 * Every report `kvlab report <name>` can generate. A new report is a module exporting a
 * `ReportDefinition` (see reports/report.ts and reports/lolkv.ts) and one line here.
 */
export const REPORTS: Record<string, ReportDefinition> = {
  [lolkvReport.name]: lolkvReport,
  [rowanReport.name]: rowanReport,
};

export type { ReportContext, ReportDefinition, ReportOutput, WrittenReport } from './report.js';
export { writeReport } from './report.js';
export { loadRenderer } from './render.js';
