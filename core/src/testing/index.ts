export { checkConformance, type ConformanceOptions, type ConformanceResult } from './conformance';
export { firstSamples } from '../first-samples';
export { FixtureTree, asUnprivileged } from './fixture-tree';
export { readmeMetricProblems, readmeMetricRows, type ReadmeMetricRow } from './readme';
