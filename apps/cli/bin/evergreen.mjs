#!/usr/bin/env node
// Runs the TypeScript sources through tsx, wherever the command is started from.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
