// prom-client's classes, each from its own file: its index also loads the Pushgateway (http, https, tls, zlib) and
// the cluster aggregator, which the exporter never uses (about 2 MiB of an idle exporter's memory).
declare module 'prom-client/lib/registry' {
  import { Registry } from 'prom-client';
  export = Registry;
}
declare module 'prom-client/lib/gauge' {
  import { Gauge } from 'prom-client';
  export = Gauge;
}
declare module 'prom-client/lib/counter' {
  import { Counter } from 'prom-client';
  export = Counter;
}
// Each of prom-client's default metrics registers itself in the registry it is given.
declare module 'prom-client/lib/metrics/*' {
  import type { Registry } from 'prom-client';
  function register(registry: Registry, config: object): void;
  export = register;
}
