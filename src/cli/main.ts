#!/usr/bin/env node
import { buildProgram } from './program.js';
import { endQuietlyOnBrokenPipe, reportError } from './run.js';

endQuietlyOnBrokenPipe(process.stdout);
endQuietlyOnBrokenPipe(process.stderr);

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.exitCode = reportError(error);
  });
