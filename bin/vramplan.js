#!/usr/bin/env node
import { preferFastExit, runCli } from "../dist/bundle/cli.mjs";
preferFastExit();
process.exitCode = await runCli(process.argv.slice(2));
