#!/usr/bin/env node
import { installCrashHandlers, preferFastExit, runCli } from "../dist/bundle/cli.mjs";
const argv = process.argv.slice(2);
installCrashHandlers(argv);
preferFastExit();
process.exitCode = await runCli(argv);
