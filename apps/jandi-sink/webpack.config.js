// Source maps beside the bundle, so `node --enable-source-maps` shows .ts lines in stack traces.
module.exports = (options) => ({ ...options, devtool: 'source-map' });
