#!/usr/bin/env node
import { main } from '../dist/agent/cli/main.js';
main(process.argv.slice(2));
