import { defineConventions } from '@gateway-errors/core';

export const conventions = defineConventions({
  typeBase: 'https://errors.example.com/problems/', // the `type` of every problem
  upstreamTimeoutMs: 5000,                           // the default deadline of an upstream call
});
