export { checkConformance, type ConformanceOptions, type ConformanceResult } from './conformance';
export { firstSamples } from '../first-samples';
export { FixtureTree, asUnprivileged } from './fixture-tree';
export {
  readmeMetricProblems,
  readmeMetricRows,
  readmeOptionProblems,
  readmeOptionRows,
  readmeProblems,
  type ReadmeMetricRow,
  type ReadmeOptionRow,
} from './readme';
