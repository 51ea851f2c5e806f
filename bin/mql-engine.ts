#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConfigurationError } from '../lib/configuration-error.js';
import { addStageStack } from '../lib/mql-engine-app.js';

const app = new App();
try {
  addStageStack(app);
  app.synth();
} catch (error) {
  // An invalid stage or model is a user error, so only its message is
  // printed. The message names the file and every invalid field.
  if (!(error instanceof ConfigurationError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
