// Validates a Kubernetes object against the real API schema (kubernetes-models' validators, generated
// from the Kubernetes OpenAPI) and also rejects fields the schema does not know, which those
// validators let through (a misspelt `readOnlyRootFileSystem` would otherwise be silently ignored by
// the API server's client-side apply, and the pod would run with a writable root).
//
// How unknown fields are found without a second copy of the schema: the compiled validator reads
// every property its schema declares. The object is validated through a Proxy that records which
// keys were read; a key of a plain object that was never read is unknown. Objects the schema treats
// as maps (labels, ConfigMap data, resource quantities) are enumerated by the validator instead, and
// then every key is known.
import type { KubernetesObject } from './kustomize.ts';

type Validate = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string; keyword: string; params: unknown }[] | null;
};

/** `apps/v1` + `Deployment` → `IoK8sApiAppsV1Deployment`; the core group is `Core`. */
export function schemaNameFor(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const groupName = (group as string).split('.')[0] as string;
  const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
  return `IoK8sApi${capitalize(groupName)}${capitalize(version as string)}${kind}`;
}

async function validatorFor(object: KubernetesObject): Promise<Validate> {
  const name = schemaNameFor(object.apiVersion, object.kind);
  try {
    const module = (await import(`kubernetes-models/_schemas/${name}`)) as { validate: Validate };
    return module.validate;
  } catch {
    throw new Error(`no Kubernetes schema for ${object.apiVersion} ${object.kind} (looked for ${name})`);
  }
}

/** Problems with one object, as `Kind/name: /json/path message`; empty when it is valid. */
export async function schemaProblems(object: KubernetesObject): Promise<string[]> {
  const validate = await validatorFor(object);
  const read = new WeakMap<object, Set<PropertyKey>>();
  const enumerated = new WeakSet<object>();
  const watch = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const keys = read.get(value) ?? new Set<PropertyKey>();
    read.set(value, keys);
    return new Proxy(value, {
      get(target, key, receiver) {
        keys.add(key);
        return watch(Reflect.get(target, key, receiver));
      },
      ownKeys(target) {
        enumerated.add(target);
        return Reflect.ownKeys(target);
      },
    });
  };
  const label = `${object.kind}/${object.metadata?.name}`;
  const problems: string[] = [];
  if (!validate(watch(object))) {
    for (const error of validate.errors ?? []) {
      problems.push(
        `${label}: ${error.instancePath || '/'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`,
      );
    }
  }
  const findUnknown = (value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) findUnknown(item, `${path}/${index}`);
      return;
    }
    const keys = read.get(value);
    for (const [key, child] of Object.entries(value)) {
      if (!enumerated.has(value) && !keys?.has(key)) {
        problems.push(`${label}: ${path}/${key} is not a field of the ${object.kind} schema`);
        continue;
      }
      findUnknown(child, `${path}/${key}`);
    }
  };
  findUnknown(object, '');
  return problems;
}
