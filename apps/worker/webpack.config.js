/* global __dirname */
const { join } = require('node:path');

// The replay CLI is built beside the worker, so `npm run replay` needs no dev tools in the image.
module.exports = (options) => ({
  ...options,
  entry: { main: options.entry, 'replay.cli': join(__dirname, 'src', 'admin', 'replay.cli.ts') },
  output: { ...options.output, filename: 'apps/worker/[name].js' },
});
