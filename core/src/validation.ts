import type Ajv from 'ajv';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { oneLine } from './log-text';
import { PRECOMPILED } from './precompiled-validators';

/**
 * How core validates, precompiled or compiled (`core/scripts/validators.js` generates with the same). `useDefaults`
 * fills in the defaults that schemas declare, so a plugin's `create()` sees its options complete.
 */
export const AJV_OPTIONS: Options = { allErrors: true, useDefaults: true, strict: false, verbose: true };

/**
 * Turns ajv's errors into sentences that name the field, e.g. `metrics.foo: must be a boolean`; `root` names
 * the validated value itself (`manifest` → `manifest.deviceTypes[0]: ...`).
 */
export function describeAjvErrors(errors: readonly ErrorObject[] | null | undefined, root = ''): string[] {
  return (errors ?? [])
    .filter((error) => error.keyword !== 'propertyNames')
    // A key may hold a newline: an error stays one log line and cannot forge more.
    .map((error) => oneLine(describeAjvError(error, root)));
}

function describeAjvError(error: ErrorObject, root: string): string {
  const field = fieldPath(error.instancePath, root);
  const at = field ? `${field}: ` : '';
  const params = error.params as Record<string, unknown>;
  if (error.propertyName !== undefined) {
    return error.keyword === 'pattern'
      ? `${at}key '${error.propertyName}' is not a valid name (must match ${String(params.pattern)})`
      : `${at}key '${error.propertyName}' is reserved`;
  }
  switch (error.keyword) {
    case 'additionalProperties':
      return `${at}unknown key '${String(params.additionalProperty)}'`;
    case 'required':
      return `${at}missing required key '${String(params.missingProperty)}'`;
    case 'type':
      return `${at}must be ${article(String(params.type))}`;
    case 'enum':
      return `${at}must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return `${at}${JSON.stringify(error.data)} does not match ${String(params.pattern)}`;
    default:
      return `${at}${error.message ?? 'is invalid'}`;
  }
}

/** ajv's `/collectors/0/options` → `collectors[0].options`. */
function fieldPath(instancePath: string, root: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), root);
}

function article(type: string): string {
  if (type === 'integer' || type === 'object' || type === 'array') return `an ${type}`;
  if (type.includes(',')) return `one of the types ${type}`;
  return `a ${type}`;
}

/**
 * The validator of a schema, once per schema object: the precompiled one when core was built with the very same
 * schema (the config, the manifest, the host's and the first-party plugins' options), else compiled by ajv, which
 * loads with the first such schema (its compiler costs about 35 ms and some MiB at start). Throws when the schema
 * does not compile.
 */
const validators = new WeakMap<object, ValidateFunction>();
export function validatorFor(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = PRECOMPILED.get(JSON.stringify(schema)) ?? compiler().compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

let ajv: Ajv | undefined;
function compiler(): Ajv {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  ajv ??= new (require('ajv') as typeof import('ajv')).default(AJV_OPTIONS);
  return ajv;
}
