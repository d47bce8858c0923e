/**
 * The parser of /proc/net/dev: pure, no I/O, so that it is tested on captured files alone.
 *
 * The file is a table. Its second line names the columns, receive and transmit side by side:
 *
 *     Inter-|   Receive                                                |  Transmit
 *      face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
 *         lo: 2776770   11307    0    0    0     0          0         0  2776770   11307    0    0    0     0       0          0
 *
 * The columns are read from that header rather than assumed, and each interface line is split at its last colon:
 * kernels before 3.x print no space after the colon once a counter is wide (`eth0:68210035552`), and some older
 * kernels allowed a colon in the name itself (`team0:1:`).
 */

export interface InterfaceCounters {
  interface: string;
  /** Receive counters by column name: `bytes`, `packets`, `errs`, `drop`, ... */
  receive: Record<string, number>;
  /** Transmit counters by column name: `bytes`, `packets`, `errs`, `drop`, ... */
  transmit: Record<string, number>;
}

export interface NetDevTable {
  interfaces: InterfaceCounters[];
  /** Lines that are not an interface's counters (1-based line number, the reason); the other lines are still read. */
  skipped: Array<{ line: number; problem: string }>;
}

/** Parses the text of /proc/net/dev; `source` names the file in errors. Throws when the text is not that table. */
export function parseNetDev(text: string, source: string): NetDevTable {
  const lines = text.split('\n');
  const [receiveColumns, transmitColumns] = headerColumns(lines[1], source);
  const width = receiveColumns.length + transmitColumns.length;
  const table: NetDevTable = { interfaces: [], skipped: [] };
  lines.slice(2).forEach((line, index) => {
    if (line.trim() === '') return;
    const number = index + 3;
    const where = `${source} line ${number}`;
    const colon = line.lastIndexOf(':');
    const name = line.slice(0, colon).trim();
    const values = line.slice(colon + 1).trim().split(/\s+/);
    if (colon === -1 || name === '') {
      table.skipped.push({ line: number, problem: `${where}: no interface name before a colon: ${JSON.stringify(line)}` });
    } else if (values.length !== width || !values.every((value) => /^\d+$/.test(value))) {
      table.skipped.push({ line: number, problem: `${where}: interface ${name} does not have ${width} whole numbers: ${JSON.stringify(line)}` });
    } else {
      const counters = values.map(Number);
      table.interfaces.push({
        interface: name,
        receive: Object.fromEntries(receiveColumns.map((column, at) => [column, counters[at]!])),
        transmit: Object.fromEntries(transmitColumns.map((column, at) => [column, counters[receiveColumns.length + at]!])),
      });
    }
  });
  return table;
}

/** The receive and transmit column names of the header line ` face |bytes packets ...|bytes packets ...`. */
function headerColumns(header: string | undefined, source: string): [string[], string[]] {
  const parts = header?.split('|') ?? [];
  const [receive, transmit] = [parts[1]?.trim().split(/\s+/) ?? [], parts[2]?.trim().split(/\s+/) ?? []];
  if (parts.length !== 3 || parts[0]!.trim() !== 'face' || !receive.includes('bytes') || !transmit.includes('bytes')) {
    throw new Error(
      `${source} is not in the /proc/net/dev format: its second line should be the column header ` +
        `' face |bytes packets ...|bytes packets ...', not ${JSON.stringify(header ?? '')}`,
    );
  }
  return [receive, transmit];
}
