import common from '@nestjs/common/package.json' with { type: 'json' };
import { Module } from '@nestjs/common';
import core from '@nestjs/core/package.json' with { type: 'json' };
import { NestFactory } from '@nestjs/core';
import platformExpress from '@nestjs/platform-express/package.json' with { type: 'json' };
import { ExpressAdapter } from '@nestjs/platform-express';
import platformFastify from '@nestjs/platform-fastify/package.json' with { type: 'json' };
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { describe, expect, it } from 'vitest';
import { loadedNestPackages } from './loaded-nest.js';

describe(`NestJS ${core.version}`, () => {
  it(`resolves @nestjs/common ${common.version}, core ${core.version}, platform-express ${platformExpress.version} and platform-fastify ${platformFastify.version}`, () => {
    for (const value of [Module, NestFactory.create, ExpressAdapter, FastifyAdapter]) expect(value).toBeTypeOf('function');
    expect([common, core, platformExpress, platformFastify].map(({ version }) => version.split('.')[0])).toEqual(['11', '11', '11', '11']);
    const loaded = loadedNestPackages();
    expect(loaded).toMatchObject({
      '@nestjs/common': [common.version],
      '@nestjs/core': [core.version],
      '@nestjs/platform-express': [platformExpress.version],
      '@nestjs/platform-fastify': [platformFastify.version],
    });
    // Whatever else the tests loaded (@nestjs/microservices, @nestjs/websockets) is one copy of NestJS 11 too.
    for (const [name, versions] of Object.entries(loaded)) expect(versions, name).toEqual([expect.stringMatching(/^11\./)]);
  });
});
