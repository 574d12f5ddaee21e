#!/usr/bin/env node
/**
 * The fast tier's test files (`npm run test:unit`): pure rules, ranks, statistics, settings, tasks,
 * records and reports from records, the shape of the code, estimates. None trains a full model,
 * starts a browser or runs a notebook; together they take seconds. `npm test` runs every file.
 */
'use strict';
const path = require('node:path');

const UNIT = [
  'rules',
  'ranks',
  'stats',
  'config',
  'tasks',
  'tables',
  'layout',
  'reproduction',
  'findings',
  'stability-report',
  'complexity',
  'estimate',
];

console.log(UNIT.map((f) => path.join('dist', 'test', `${f}.test.js`)).join(' '));
