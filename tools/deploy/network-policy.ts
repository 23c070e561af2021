// Which pod may open a connection to which port of another pod in the same namespace, by the rules
// of Kubernetes NetworkPolicy (ingress only, which is all our manifests restrict): a pod no policy
// selects accepts everything; a selected pod accepts what one of its policies' ingress rules allows.
import type { KubernetesObject } from './kustomize.ts';
import type { Container } from './manifest-queries.ts';

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** Kubernetes label-selector semantics; an empty selector selects every pod. */
export function matchesSelector(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return key in labels && values.includes(labels[key] as string);
    if (operator === 'NotIn') return !(key in labels) || !values.includes(labels[key] as string);
    if (operator === 'Exists') return key in labels;
    return !(key in labels);
  });
  return byLabel && byExpression;
}

export interface PodEnd {
  labels: Record<string, string>;
  containers: Container[];
}

/** A pod template as one end of a connection. */
export const podOf = (workload: KubernetesObject): PodEnd => ({
  labels: workload.spec.template.metadata.labels,
  containers: workload.spec.template.spec.containers,
});

/** A rule's port (a number or a container port's name) as the number it means on `target`. */
function portNumber(port: number | string, target: PodEnd): number | undefined {
  if (typeof port === 'number') return port;
  for (const container of target.containers) {
    const named = (container.ports ?? []).find((entry: Container) => entry.name === port);
    if (named) return named.containerPort;
  }
  return undefined;
}

export function ingressAllowed(objects: KubernetesObject[], from: PodEnd, to: PodEnd, port: number): boolean {
  const policies = objects.filter(
    (object) =>
      object.kind === 'NetworkPolicy' &&
      (object.spec.policyTypes ?? ['Ingress']).includes('Ingress') &&
      matchesSelector(object.spec.podSelector, to.labels),
  );
  if (policies.length === 0) return true;
  return policies.some((policy) =>
    (policy.spec.ingress ?? []).some((rule: Container) => {
      const sources: Container[] = rule.from ?? [];
      const sourceAllowed =
        sources.length === 0 ||
        sources.some(
          (peer) => !peer.namespaceSelector && !peer.ipBlock && matchesSelector(peer.podSelector, from.labels),
        );
      const ports: Container[] = rule.ports ?? [];
      const portAllowed = ports.length === 0 || ports.some((entry) => portNumber(entry.port, to) === port);
      return sourceAllowed && portAllowed;
    }),
  );
}
