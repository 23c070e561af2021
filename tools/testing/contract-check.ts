// Every answer an end-to-end test receives through a running system's gateway is checked against the
// OpenAPI document that gateway serves, with openapi-backend (a maintained OpenAPI 3 router and
// Ajv-based validator) rather than checks of our own: the status must be one the operation documents,
// the headers it declares required (Retry-After on 429 and 503) must be there, and the body must match
// that status's schema. An answer the document does not allow throws, so the test that got it fails,
// the bad-input and rate-limit tests included. Requests that match no operation (unknown routes,
// health, metrics) are outside the document and are not checked.
import addFormats from 'ajv-formats';
import OpenAPIBackend, { type Document, type Operation, SetMatchType } from 'openapi-backend';

export interface ReceivedAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

const contracts = new Map<string, Promise<OpenAPIBackend>>();

/** Checks every later answer from `gatewayUrl` (through call()) against `document`, the one it serves. */
export async function checkAnswersAgainstDocument(gatewayUrl: string, document: unknown): Promise<void> {
  const contract = loadContract(document as Document & Record<string, unknown>);
  contracts.set(gatewayUrl, contract);
  await contract;
}

export function stopCheckingAnswers(gatewayUrl: string): void {
  contracts.delete(gatewayUrl);
}

async function loadContract(document: Document & Record<string, unknown>): Promise<OpenAPIBackend> {
  if (document['x-unavailable-services']) {
    throw new Error(`the gateway's document lacks ${document['x-unavailable-services']}: nothing to check against`);
  }
  const api = new OpenAPIBackend({
    definition: document,
    strict: true,
    validate: true,
    // uuid, date-time, email …: checked, not ignored.
    customizeAjv: (ajv) => {
      addFormats(ajv);
      return ajv;
    },
  });
  await api.init();
  return api;
}

/** The operation `method path` is, in the document `gatewayUrl` serves, or undefined when unchecked. */
export async function documentedOperation(
  gatewayUrl: string,
  method: string,
  path: string,
): Promise<{ api: OpenAPIBackend; operation: Operation } | undefined> {
  const contract = contracts.get(gatewayUrl);
  if (!contract) return undefined;
  const api = await contract;
  const operation = api.matchOperation({ method, path: path.split('?', 1)[0] ?? path, headers: {} });
  return operation ? { api, operation } : undefined;
}

/** Throws, naming what is wrong, when the document does not allow `answer` to `method path`. */
export async function assertDocumentedAnswer(
  gatewayUrl: string,
  method: string,
  path: string,
  answer: ReceivedAnswer,
): Promise<void> {
  const found = await documentedOperation(gatewayUrl, method, path);
  if (!found) return;
  const { api, operation } = found;
  const where = `${method} ${path} → ${answer.status} (${operation.operationId})`;
  const statuses = Object.keys(operation.responses ?? {});
  const documented = [String(answer.status), `${String(answer.status)[0]}XX`, 'default'].find((key) =>
    statuses.includes(key),
  );
  if (!documented) {
    throw new Error(
      `undocumented answer: ${where}; the document allows ${statuses.join(', ')}. Body: ${JSON.stringify(answer.body)}`,
    );
  }
  // The library checks the values of the headers present; which must be present is OpenAPI's
  // `required: true` on each, which it does not read (it has all-or-none), so that is checked here.
  const declared = (
    operation.responses?.[documented] as { headers?: Record<string, { required?: boolean }> } | undefined
  )?.headers;
  const missing = Object.entries(declared ?? {})
    .filter(([name, header]) => header.required && !answer.headers.has(name))
    .map(([name]) => ({ instancePath: '/headers', message: `must have required header ${name}` }));
  const problems = [
    ...missing,
    ...(api.validateResponseHeaders(Object.fromEntries(answer.headers), operation, {
      statusCode: answer.status,
      setMatchType: SetMatchType.Any,
    }).errors ?? []),
    // An empty body is null to the library (that is how it models a 204's absence of content).
    ...(api.validateResponse(answer.body ?? null, operation, answer.status).errors ?? []),
  ];
  if (problems.length > 0) {
    const shown = problems.map((problem) => `${problem.instancePath || '/'} ${problem.message}`).join('; ');
    throw new Error(`answer does not match the document: ${where}: ${shown}. Body: ${JSON.stringify(answer.body)}`);
  }
}
