#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConfigurationError } from '../lib/configuration-error.js';
import { addStageStack, synthesizeStageApp } from '../lib/mql-engine-app.js';

// The app is synthesized here, so that a synthesis error is reported
// once. With autoSynth, the App would synthesize again before the process
// exits and raise the error a second time, uncaught.
const app = new App({ autoSynth: false });
try {
  addStageStack(app);
  synthesizeStageApp(app);
} catch (error) {
  // An invalid stage or model is a user error, so only its message is
  // printed. The message names the file and every invalid field.
  if (!(error instanceof ConfigurationError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
