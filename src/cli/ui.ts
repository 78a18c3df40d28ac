/**
 * The terminal face's entry points, in one place for the commands and the wizard:
 * the run's Reporter (human listener + JSON-lines logger + result line), colours, formatting.
 */
export { reporterFor, createReporter, attachReporter, exitCodeFor, type Reporter } from './output/reporter.js';
export { createHumanOut, humanListener, eventLine, describeHolder, type HumanOut } from './output/human.js';
export { createColors, colorsEnabled, type Colors } from './output/colors.js';
export { formatDuration, formatExplanation, formatTable, describeConnection, plural, didYouMean } from './output/format.js';
export { loadConfig, withTarget, targetLabel, loadWizard, registerSecrets } from './output/runner.js';
