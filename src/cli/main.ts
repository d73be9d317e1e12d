#!/usr/bin/env node
import { buildProgram } from './program.js';
import { reportError } from './run.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.exitCode = reportError(error);
  });
