export interface DemoDevice {
  id: string;
  type: string;
  metrics: string[];
  address: string;
  tags: Record<string, string>;
}

/** `count` devices spread over three types, ids like `jetson-001`; every seventh is in the `canary` ring. */
export function demoDevices(count: number): DemoDevice[];
/** Registers the devices through the API as exporters would, `failed[id]` as their apply error; a fleet layer and two groups. */
export function seedFleet(base: string, token: string, devices: DemoDevice[], failed?: Record<string, string>): Promise<void>;
/** The built CLI on a free loopback port with a throwaway database and `token` (and `args`); `stop` kills it and removes its folder. */
export function startDemoServer(token: string, args?: string[]): Promise<{ base: string; stop(): void }>;
