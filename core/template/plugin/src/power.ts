/** A hwmon `power<N>_input` (microwatts, a whole number and a newline) in watts; throws naming `source` otherwise. */
export function parseMicrowatts(text: string, source: string): number {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) throw new Error(`${source} holds ${JSON.stringify(trimmed)}, not a whole number of microwatts`);
  return Number(trimmed) / 1e6;
}
