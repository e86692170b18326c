#!/usr/bin/env node
import { exitWhenFlushed, installCrashHandlers, preferFastExit, runCli } from "../dist/bundle/cli.mjs";
const argv = process.argv.slice(2);
installCrashHandlers(argv);
preferFastExit();
exitWhenFlushed(await runCli(argv));
