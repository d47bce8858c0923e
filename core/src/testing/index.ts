export { checkConformance, type ConformanceOptions, type ConformanceResult } from './conformance';
export { firstSamples } from '../first-samples';
