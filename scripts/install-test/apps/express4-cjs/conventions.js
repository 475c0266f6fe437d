/* global require, exports */
/* eslint-disable @typescript-eslint/no-require-imports -- an app in CommonJS, as Express 4 apps are written */
const { defineConventions } = require('@gateway-errors/core');

exports.conventions = defineConventions({
  typeBase: 'https://errors.example.com/problems/', // the `type` of every problem
  upstreamTimeoutMs: 5000,                           // the default deadline of an upstream call
});
