#!/usr/bin/env node
import { main } from '../dist/collector/cli/main.js';
main(process.argv.slice(2));
