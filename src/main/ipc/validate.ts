// Payload validation from the contract's request schemas: every field is checked before
// a handler runs, and a refusal names the channel, the field and what it must be.
import * as v from 'valibot';
import { CellarError } from '../../shared/errors';
import { REQUEST_SCHEMAS, type Requests, type RequestSchemas } from '../../shared/request-schemas';

type SchemaNode = v.GenericSchema & { entries?: Record<string, SchemaNode>; pipe?: readonly unknown[]; wrapped?: SchemaNode };

/** The schema of a request's field, looked up through pipes, nullish and optional wrappers. */
function fieldSchema(schema: SchemaNode, key: string): SchemaNode | undefined {
  if (schema.entries) return schema.entries[key];
  for (const item of [schema.wrapped, ...(schema.pipe ?? [])]) {
    if (item && typeof item === 'object' && 'kind' in item && item.kind === 'schema') {
      const found = fieldSchema(item as SchemaNode, key);
      if (found) return found;
    }
  }
  return undefined;
}

/** What a field must be, as its schema describes it (an optional field is described by what it wraps). */
function mustBe(field: SchemaNode | undefined): string {
  if (!field) return 'valid';
  return v.getDescription(field) ?? mustBe(field.wrapped);
}

function refusal(channel: string, schema: SchemaNode, issue: v.BaseIssue<unknown>): CellarError {
  const key = issue.path?.[0]?.key;
  if (typeof key !== 'string') return new CellarError('usage', `${channel} needs an object payload.`);
  // A strict object reports a field it does not declare as expecting "never".
  if (issue.type === 'strict_object' && issue.expected === 'never') return new CellarError('usage', `${channel}: unexpected field "${key}".`);
  return new CellarError('usage', `${channel}: "${key}" must be ${mustBe(fieldSchema(schema, key))}.`);
}

export function requestValidator<K extends keyof RequestSchemas>(channel: K): (payload: unknown) => Requests[K] {
  const schema = REQUEST_SCHEMAS[channel] as SchemaNode;
  return (payload) => {
    const parsed = v.safeParse(schema, payload, { abortEarly: true });
    if (!parsed.success) throw refusal(channel, schema, parsed.issues[0]);
    return parsed.output as Requests[K];
  };
}

/** A validator for each of these channels, all from the one schema map. */
export function requestValidators<K extends keyof RequestSchemas>(channels: readonly K[]): { [C in K]: (payload: unknown) => Requests[C] } {
  return Object.fromEntries(channels.map((channel) => [channel, requestValidator(channel)])) as { [C in K]: (payload: unknown) => Requests[C] };
}
