import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { oneLine } from './log-text';

/**
 * One ajv instance for everything core validates. `useDefaults` fills in the defaults that schemas declare,
 * so a plugin's `create()` sees its options complete.
 */
export const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });

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

/** Compiles a schema once per schema object. */
const compiled = new WeakMap<object, ValidateFunction>();
export function validatorFor(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}
