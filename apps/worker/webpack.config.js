/* global __dirname */
const { join } = require('node:path');

// The replay CLI is built beside the worker, so `npm run replay` needs no dev tools in the image.
// Source maps beside the bundle, so `node --enable-source-maps` shows .ts lines in stack traces.
module.exports = (options) => ({
  ...options,
  devtool: 'source-map',
  entry: { main: options.entry, 'replay.cli': join(__dirname, 'src', 'admin', 'replay.cli.ts') },
  output: { ...options.output, filename: 'apps/worker/[name].js' },
});
