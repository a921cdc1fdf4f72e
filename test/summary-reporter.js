// Writes the run's counts to .keel/test-summary.json for .ci/run, which prints "N passed, N failed".
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.file = path.join(globalConfig.rootDir, '.keel', 'test-summary.json');
  }

  onRunComplete(_contexts, results) {
    // A suite that failed to load has no failed tests but must still count as a failure.
    const brokenSuites = results.testResults.filter((suite) => suite.testExecError || (suite.failureMessage && suite.numFailingTests === 0)).length;
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + brokenSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, JSON.stringify(summary));
  }
}

module.exports = SummaryReporter;
