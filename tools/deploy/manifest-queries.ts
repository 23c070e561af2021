// Questions asked of rendered manifests by the manifest test and by `doctor --kubernetes`: which
// Deployment runs a given entry file, what environment its container really gets (env, envFrom,
// ConfigMap and Secret references resolved), and which autoscaler may scale it how far.
import type { KubernetesObject } from './kustomize.ts';

// biome-ignore lint/suspicious/noExplicitAny: container specs are untyped YAML, checked by schema elsewhere.
export type Container = any;

export const objectsOfKind = (objects: KubernetesObject[], kind: string) =>
  objects.filter((object) => object.kind === kind);

export const named = (objects: KubernetesObject[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);

/** A ConfigMap's or Secret's values as text (Secret `data` is base64). */
export function valuesOf(object: KubernetesObject | undefined): Record<string, string> {
  if (!object) return {};
  const decoded =
    object.kind === 'Secret'
      ? Object.fromEntries(Object.entries(object.data ?? {}).map(([key, value]) => [key, atob(value)]))
      : (object.data ?? {});
  return { ...decoded, ...(object.stringData ?? {}) };
}

/** The Deployment whose first container runs `entry` (e.g. `workers/client/server.ts`). */
export function deploymentRunning(objects: KubernetesObject[], entry: string): KubernetesObject | undefined {
  return objectsOfKind(objects, 'Deployment').find((deployment) =>
    (deployment.spec?.template?.spec?.containers ?? []).some((container: Container) => container.args?.[0] === entry),
  );
}

export const containersOf = (workload: KubernetesObject): Container[] =>
  workload.spec?.template?.spec?.containers ?? [];

/** The environment a container starts with: envFrom sources first, then env entries (which win). */
export function containerEnvironment(objects: KubernetesObject[], container: Container): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef)
      Object.assign(environment, valuesOf(named(objects, 'ConfigMap', source.configMapRef.name)));
    if (source.secretRef) Object.assign(environment, valuesOf(named(objects, 'Secret', source.secretRef.name)));
  }
  for (const entry of container.env ?? []) {
    const configMapKey = entry.valueFrom?.configMapKeyRef;
    const secretKey = entry.valueFrom?.secretKeyRef;
    const value =
      entry.value ??
      (configMapKey && valuesOf(named(objects, 'ConfigMap', configMapKey.name))[configMapKey.key]) ??
      (secretKey && valuesOf(named(objects, 'Secret', secretKey.name))[secretKey.key]);
    if (value !== undefined) environment[entry.name] = value;
  }
  return environment;
}

/** The HorizontalPodAutoscaler scaling a Deployment, if any. */
export function autoscalerFor(objects: KubernetesObject[], deployment: KubernetesObject): KubernetesObject | undefined {
  return objectsOfKind(objects, 'HorizontalPodAutoscaler').find(
    (hpa) =>
      hpa.spec?.scaleTargetRef?.kind === 'Deployment' && hpa.spec.scaleTargetRef.name === deployment.metadata.name,
  );
}

/** The most pods a Deployment may run: its autoscaler's maxReplicas, else its replicas (default 1). */
export function maximumPods(
  objects: KubernetesObject[],
  deployment: KubernetesObject,
): { pods: number; source: string } {
  const hpa = autoscalerFor(objects, deployment);
  if (hpa) return { pods: hpa.spec.maxReplicas, source: `HorizontalPodAutoscaler/${hpa.metadata.name} maxReplicas` };
  return { pods: deployment.spec?.replicas ?? 1, source: `Deployment/${deployment.metadata.name} replicas` };
}

/** True when `selector`'s matchLabels all appear in `labels`. */
export const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);
