import type { Argv } from "yargs";
import { DEFAULT_VALUE_FORMATS, describeValue } from "../../dtype/describe-value.js";
import { FORMATS } from "../../dtype/formats.js";
import { formatProperties } from "../../dtype/properties.js";
import { renderFormatTable, renderValueReport } from "../../report/dtype.js";
import { cliLayout, type CliCommand, type CliIo } from "../output.js";

export interface DtypeArgs {
  value?: string;
  /** Arguments after `--`: a negative value lands here. */
  _: (string | number)[];
  as?: string;
  json: boolean;
}

export const dtypeCommand = {
  name: "dtype",
  command: "dtype [value]",
  describe: "Float formats explained: bits, range, precision, and how a value is stored",
  builder: (yargs: Argv) =>
    yargs
      .positional("value", { type: "string", describe: "A number to store in each format (put -- before a negative one)" })
      .option("as", { type: "string", describe: `Formats to show, comma-separated (default ${DEFAULT_VALUE_FORMATS.join(",")})` })
      .option("json", { type: "boolean", default: false, describe: "Print the result as JSON" })
      .example("$0 dtype", "bits, range and precision of every format")
      .example("$0 dtype 3.14159265358979 --as fp32,bf16,fp16", "how π is stored, rounded and truncated")
      .example("$0 dtype -- -1.9601084e-14", "a value fp16 cannot hold"),
  run: async (args: DtypeArgs, io: CliIo) => {
    const value = args.value ?? (args._[1] === undefined ? undefined : String(args._[1]));
    if (value === undefined) {
      const rows = FORMATS.map(formatProperties);
      io.stdout(args.json ? `${JSON.stringify({ schema: "vramplan.dtype-table/1", formats: rows }, null, 2)}\n` : renderFormatTable(rows, cliLayout(io)));
      return;
    }
    const formats = args.as ? args.as.split(",").map((name) => name.trim()).filter(Boolean) : DEFAULT_VALUE_FORMATS;
    const report = describeValue(value, formats);
    io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderValueReport(report, cliLayout(io)));
  },
} satisfies CliCommand<DtypeArgs>;
